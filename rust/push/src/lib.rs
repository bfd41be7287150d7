//! dmnonce-push: the WAP-push bearer for OMA DM notifications, sans-IO.
//!
//! Bytes in, decisions out: SMS-DELIVER TPDUs ([`sms`]) are reassembled
//! into WDP datagrams ([`reassembly`]), a datagram for port 2948 is a
//! connectionless WSP push ([`wsp`]), and [`classify`] hands back the
//! Package #0 of a DM notification or says why the push is not one.
//! Encoders for every layer exist for tests, the test server and tools.
//! No sockets, files or clocks: the caller passes time in.
#![forbid(unsafe_code)]

mod classify;
mod intake;
mod reader;
pub mod reassembly;
pub mod sms;
pub mod wsp;

pub use classify::{classify, detect, looks_like_package0, DetectError, PushInput, PushRefusal};
pub use intake::{package0_from_any, package0_from_wsp, IntakeError, SmsIntake};
pub use reassembly::{Abandoned, Datagram, FragmentRefusal, Limits, Outcome, Reassembler};
pub use sms::{SmsDeliver, SmsError};
pub use wsp::{AppId, ContentType, Media, PduType, WspError, WspPush};
