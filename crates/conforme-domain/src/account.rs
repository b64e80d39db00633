//! Accounts: roles, the password policy, the lockout after repeated failures, the
//! one-time-code rules of the second factor.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// What an account may do (PRODUCT.md §1). The legal representative is an editor user with
/// power to bind the editor: a property of the membership, not a separate role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Editor,
    Instructor,
    CommitteeMember,
    ProgrammeAdmin,
    PaymentAgent,
    Establishment,
    /// Operates the platform: creates agency accounts.
    Admin,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Editor,
        Role::Instructor,
        Role::CommitteeMember,
        Role::ProgrammeAdmin,
        Role::PaymentAgent,
        Role::Establishment,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Editor => "editor",
            Role::Instructor => "instructor",
            Role::CommitteeMember => "committee-member",
            Role::ProgrammeAdmin => "programme-admin",
            Role::PaymentAgent => "payment-agent",
            Role::Establishment => "establishment",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Editor => "Éditeur",
            Role::Instructor => "Instructeur (ANS)",
            Role::CommitteeMember => "Membre du comité",
            Role::ProgrammeAdmin => "Administrateur de dispositif (ANS)",
            Role::PaymentAgent => "Agent payeur (ASP)",
            Role::Establishment => "Établissement de santé",
            Role::Admin => "Administrateur de la plateforme",
        }
    }

    /// Agency and partner staff, whose accounts an administrator creates.
    pub fn is_agency(self) -> bool {
        matches!(
            self,
            Role::Instructor
                | Role::CommitteeMember
                | Role::ProgrammeAdmin
                | Role::PaymentAgent
                | Role::Admin
        )
    }
}

pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_CHARS: usize = 128;

/// Checks a new password: 12 to 128 characters, at least three of the four character classes
/// (lower case, upper case, digit, other), not containing the email's local part, not a
/// repetition of one character. Returns every problem, in French.
pub fn check_password(password: &str, email_local_part: &str) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let n = password.chars().count();
    if n < PASSWORD_MIN_CHARS {
        problems.push(format!(
            "le mot de passe doit comporter au moins {PASSWORD_MIN_CHARS} caractères"
        ));
    }
    if n > PASSWORD_MAX_CHARS {
        problems.push(format!(
            "le mot de passe doit comporter au plus {PASSWORD_MAX_CHARS} caractères"
        ));
    }
    let classes = [
        password.chars().any(char::is_lowercase),
        password.chars().any(char::is_uppercase),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if classes < 3 {
        problems.push(
            "le mot de passe doit mêler au moins trois types de caractères parmi minuscules, majuscules, chiffres et caractères spéciaux"
                .into(),
        );
    }
    let local = email_local_part.to_lowercase();
    if local.chars().count() >= 4 && password.to_lowercase().contains(&local) {
        problems.push(
            "le mot de passe ne doit pas contenir l'identifiant de l'adresse électronique".into(),
        );
    }
    let mut chars = password.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        problems.push("le mot de passe ne doit pas répéter un seul caractère".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Lockout after repeated failed logins.
#[derive(Debug, Clone, Copy)]
pub struct LockoutPolicy {
    pub max_failures: u32,
    pub lock_for: Duration,
}

pub const LOCKOUT: LockoutPolicy = LockoutPolicy {
    max_failures: 5,
    lock_for: Duration::minutes(15),
};

/// An account's recent failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailureState {
    pub consecutive_failures: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

impl LockoutPolicy {
    pub fn is_locked(&self, state: &FailureState, now: DateTime<Utc>) -> bool {
        state.locked_until.is_some_and(|until| now < until)
    }

    /// The state after a failed attempt: the `max_failures`-th consecutive failure locks the
    /// account for `lock_for`, and the count starts again.
    pub fn after_failure(&self, state: &FailureState, now: DateTime<Utc>) -> FailureState {
        let failures = state.consecutive_failures + 1;
        if failures >= self.max_failures {
            FailureState {
                consecutive_failures: 0,
                locked_until: Some(now + self.lock_for),
            }
        } else {
            FailureState {
                consecutive_failures: failures,
                locked_until: state.locked_until,
            }
        }
    }

    pub fn after_success(&self) -> FailureState {
        FailureState::default()
    }
}

/// Emailed one-time codes: 6 digits, valid 10 minutes, 5 tries.
pub const OTP_DIGITS: usize = 6;
pub const OTP_VALID_MINUTES: i64 = 10;
pub const OTP_MAX_ATTEMPTS: u32 = 5;

/// Why a one-time code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OtpRefusal {
    #[error("le code a expiré : demandez-en un nouveau")]
    Expired,
    #[error("trop d'essais : demandez un nouveau code")]
    TooManyAttempts,
    #[error("code incorrect")]
    Wrong,
}

/// Judges a code attempt. `matches` is whether the code typed equals the one sent (compared
/// by the caller in constant time).
pub fn judge_otp(
    issued_at: DateTime<Utc>,
    attempts_before: u32,
    matches: bool,
    now: DateTime<Utc>,
) -> Result<(), OtpRefusal> {
    if now > issued_at + Duration::minutes(OTP_VALID_MINUTES) {
        return Err(OtpRefusal::Expired);
    }
    if attempts_before >= OTP_MAX_ATTEMPTS {
        return Err(OtpRefusal::TooManyAttempts);
    }
    if matches {
        Ok(())
    } else {
        Err(OtpRefusal::Wrong)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 4, 2, 13, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn password_policy() {
        assert!(check_password("Correct-Horse-42", "marie").is_ok());
        assert!(check_password("correct horse battery staple 42", "marie").is_ok());
        let p = check_password("court", "marie").expect_err("too short");
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(check_password("aaaaaaaaaaaaaaaa", "x").is_err());
        assert!(check_password("Marie.Curie-2026!", "marie.curie").is_err());
        assert!(check_password(&"Ab1-".repeat(40), "x").is_err());
    }

    #[test]
    fn lockout_after_five_failures() {
        let mut s = FailureState::default();
        for _ in 0..4 {
            s = LOCKOUT.after_failure(&s, t0());
            assert!(!LOCKOUT.is_locked(&s, t0()));
        }
        s = LOCKOUT.after_failure(&s, t0());
        assert!(LOCKOUT.is_locked(&s, t0()));
        assert!(LOCKOUT.is_locked(&s, t0() + Duration::minutes(14)));
        assert!(!LOCKOUT.is_locked(&s, t0() + Duration::minutes(15)));
        assert_eq!(LOCKOUT.after_success(), FailureState::default());
    }

    #[test]
    fn one_time_codes() {
        assert_eq!(
            judge_otp(t0(), 0, true, t0() + Duration::minutes(10)),
            Ok(())
        );
        assert_eq!(
            judge_otp(
                t0(),
                0,
                true,
                t0() + Duration::minutes(10) + Duration::seconds(1)
            ),
            Err(OtpRefusal::Expired)
        );
        assert_eq!(
            judge_otp(t0(), 5, true, t0()),
            Err(OtpRefusal::TooManyAttempts)
        );
        assert_eq!(judge_otp(t0(), 4, false, t0()), Err(OtpRefusal::Wrong));
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert!(Role::Instructor.is_agency() && !Role::Editor.is_agency());
    }
}
