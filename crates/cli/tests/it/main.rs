//! The one integration-test binary: runs the real `dbfleet` executable
//! against fleets written into temp dirs, and against real servers where a
//! test needs one.

mod harness;
mod live;
mod malformed;
mod render;
mod resolve;
mod secrets;
mod validation;
