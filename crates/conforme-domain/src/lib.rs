//! Conforme's rules, pure and synchronous: programmes and their calendars, the working-day
//! calendar, the requirement repository (REM) model. No I/O, no async, no database types.
#![forbid(unsafe_code)]

pub mod account;
pub mod calendar;
pub mod candidature;
pub mod clock;
pub mod identifiers;
pub mod organisation;
pub mod policy;
pub mod programme;
pub mod proofs;
pub mod referencing;
pub mod rem;
pub mod text;
