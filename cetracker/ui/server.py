"""The app's web server: ``streamlit run app.py``, started so that every visitor gets app.py.

``python -m cetracker.ui.server [streamlit run options]`` is what ``./ce start``, the
deployment's service file and the browser tests start.
"""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app.py"


def main(options: list[str]) -> None:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    # Streamlit decides once per server process, as the first visitor's session starts,
    # whether the app is an old-style multipage app: by whether a pages/ folder sits beside
    # app.py. Until app.py's st.navigation has run once it serves each file of pages/ as a
    # page of its own: a fresh server's first visitor to /sign-up got "Page not found", and
    # one to /verify got pages/verify.py without app.py. This app always routes through
    # st.navigation (app.py), so the question is answered before anyone asks it.
    PagesManager.uses_pages_directory = False
    cli.main(["run", str(APP), *options], prog_name="streamlit")


if __name__ == "__main__":
    main(sys.argv[1:])
