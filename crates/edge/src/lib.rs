//! Edge (lead).
