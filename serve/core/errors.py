"""What can be wrong with an upload. The web layer maps each to an HTTP status
(serve/web/errors.py); the batch command writes the message into the row."""


class BadImage(ValueError):
    """The upload cannot be turned into a digit; the message says why, for a person."""


class NotAnImage(BadImage):
    """Not an image of a format we read, or a damaged one."""


class ImageTooLarge(BadImage):
    """More pixels than the limits allow (a decompression bomb, or just too big)."""


class BlankImage(BadImage):
    """An image with nothing drawn on it."""
