//! Edge cache (lead).
