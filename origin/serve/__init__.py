"""The read side: a GET or HEAD of a stored file decided as a value (the
representation of its version, the preconditions, the range) and sent by one sender."""
