"""The app's web server: ``streamlit run app.py``, started so that every visitor gets app.py.

``python -m cetracker.ui.server [streamlit run options]`` is what ``./ce start``, the
deployment's service file and the browser tests start.
"""

from __future__ import annotations

import faulthandler
import logging
import signal
import sys
import threading
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
    # Where is a page that never finishes? ``kill -USR1 <the server's pid>`` writes the stack
    # of each of its threads to its error output (the browser tests ask so when one times out).
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    threading.Thread(target=_warm_at_start, name="cetracker-open", daemon=True).start()
    cli.main(["run", str(APP), *options], prog_name="streamlit")


def _warm_at_start() -> None:
    """Open the database and start working out the Dashboard's figures as the server
    starts, not when the first visitor's page opens it: at a million members they take
    seconds, which then pass before anyone has logged in. The app's sessions get this same
    database and warmer (one of each per process)."""
    from cetracker import config, warmup
    from cetracker.store.db import holds_database, open_database

    try:
        path = config.db_path()
        if holds_database(path):  # a missing one is the first visitor page's to report
            warmup.start(open_database(path))
    except Exception:  # the first visitor's page says what is wrong with the database
        logging.getLogger(__name__).warning("Could not open the database at start", exc_info=True)


if __name__ == "__main__":
    main(sys.argv[1:])
