//! Server session (written by the lead).
