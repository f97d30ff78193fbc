"""Pure HTTP semantics (RFC 9110/9111): dates, entity tags, preconditions, ranges,
Cache-Control, Content-Disposition. Imports only the standard library, so every
rule here is a function over plain values, tested with tables and hypothesis."""
