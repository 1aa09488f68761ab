"""Exceptions: one class per frost_status, all subclasses of frost.Error."""

# frost_status values, in the order of include/frost.h.
STATUS_NAMES = (
    "FROST_OK",
    "FROST_E_INVALID_ARGUMENT",
    "FROST_E_IO",
    "FROST_E_PARSE",
    "FROST_E_UNSUPPORTED_OP",
    "FROST_E_NOT_FOUND",
    "FROST_E_GRAPH",
    "FROST_E_SHAPE",
    "FROST_E_NO_MEMORY",
    "FROST_E_IMAGE",
    "FROST_E_LIMIT",
    "FROST_E_BACKEND",
    "FROST_E_INTERNAL",
)


class Error(Exception):
    """A failure reported by libfrost.

    ``status`` is the frost_status value (an int), ``status_name`` its C name
    ("FROST_E_IO"), ``message`` frost's message (it names the file, node or op
    involved).  ``str(error)`` is the message."""

    status = -1

    def __init__(self, message, status=None):
        if status is not None:
            self.status = status
        self.message = message
        super().__init__(message)

    def __str__(self):
        return self.message

    @property
    def status_name(self):
        if 0 <= self.status < len(STATUS_NAMES):
            return STATUS_NAMES[self.status]
        return "FROST_STATUS_%d" % self.status


class InvalidArgumentError(Error, ValueError):
    """NULL where an object is required, bad option value, wrong tensor size."""
    status = 1


class FileError(Error, OSError):
    """FROST_E_IO: a file cannot be opened, read or mapped."""
    status = 2


class ParseError(Error):
    """Malformed bytes: truncated or corrupt GraphDef."""
    status = 3


class UnsupportedOpError(Error):
    """The graph uses ops frost does not implement (all named in the message)."""
    status = 4


class NotFoundError(Error, LookupError):
    """An input or output name is not a node of the graph."""
    status = 5


class GraphError(Error):
    """Invalid graph: cycle, missing input node, bad attribute."""
    status = 6


class ShapeError(Error):
    """Shapes do not match or cannot be inferred."""
    status = 7


class NoMemoryError(Error, MemoryError):
    """An allocation failed."""
    status = 8


class ImageError(Error):
    """An image cannot be decoded."""
    status = 9


class LimitError(Error):
    """A configured limit was exceeded (pixels, batch size)."""
    status = 10


class BackendError(Error):
    """The fast backend (oneDNN) failed."""
    status = 11


class InternalError(Error):
    """A bug in frost."""
    status = 12


_BY_STATUS = {c.status: c for c in (
    InvalidArgumentError, FileError, ParseError, UnsupportedOpError, NotFoundError, GraphError, ShapeError,
    NoMemoryError, ImageError, LimitError, BackendError, InternalError)}


def error_for(status, message):
    """The exception object for a frost_status and its message."""
    cls = _BY_STATUS.get(status, Error)
    return cls(message, status)
