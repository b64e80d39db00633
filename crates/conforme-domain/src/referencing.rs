//! The end of the référencement path (DSR-HOP-DPI-Va2 §4.5, §4.2.4; DSR-BIO-SGL-Va1 §4.5):
//! the convention and its electronic signature, the weekly committee and its decision modes,
//! the lifting of non-blocking reservations, the référencement number and its verification,
//! and what follows a référencement (audits, suspension, withdrawal, new versions under
//! upward compatibility).
//!
//! Every rule is pure and synchronous; refusals are worded in French for the user.
//!
//! - [`convention`] — the convention's articles rendered from the programme's template;
//! - [`number`] — [`number::issue`] and [`number::parse`]: the référencement number and its
//!   check digits (ISO 7064 MOD 97-10), so that an altered number fails verification;
//! - [`state`] — [`Referencing`], its [`Phase`] and every change of it;
//! - [`committee`] — the weekly sessions.

pub mod committee;
pub mod convention;
pub mod number;
pub mod registry;
pub mod state;

pub use convention::{check_placeholders, render_clauses};
pub use state::{
    Audit, AuditOutcome, CommitteeDecision, ConventionRecord, DeclaredVersion, Lifting, Outcome,
    Phase, RefError, Referencing, SignatureRecord, Standing, StandingEvent,
};

#[cfg(test)]
mod tests;
