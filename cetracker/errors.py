"""One exception family: every error a person may see carries a plain message."""


class CetrackerError(Exception):
    """An error meant for a person: ``message`` says what is wrong and what to do."""

    title = "Something is wrong"

    def __init__(self, message: str, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if title:
            self.title = title


class RejectedFile(CetrackerError):
    """An uploaded file that cannot be read as a whole; nothing was written."""

    title = "File rejected"


class NotAllowed(CetrackerError):
    """The signed-in user may not see or do this."""

    title = "Not allowed"
