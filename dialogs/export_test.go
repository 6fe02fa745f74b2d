package dialogs

// ErrNotVerified exposes errNotVerified to the external tests.
var ErrNotVerified = errNotVerified
