//! Every sentence the portal writes, in one place.

pub(crate) const DEMO_BANNER: &str =
    "Demo mode: you are acting as demo-admin (admin). Data is generated; nothing here is real.";
pub(crate) const ANONYMOUS_BANNER: &str = "You are browsing anonymously and can only read.";

/// One line saying what an event was.
pub(crate) fn describe(e: &switchboard_core::event::Event) -> String {
    switchboard_core::messages::describe_event(e)
}
