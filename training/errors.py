"""The one error type the training commands turn into a one-line message and exit code 2."""


class TrainingError(ValueError):
    """A run that cannot go on, with a message that says what to fix."""
