//! Authorisation, decided in one place: who may do what to which object. Every handler asks
//! [`authorize`] before acting; pages hide nothing the policy would allow and show nothing it
//! would refuse.

use crate::account::Role;
use serde::{Deserialize, Serialize};

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: String,
    pub role: Role,
    /// The editor organisation of an editor user.
    pub organisation_id: Option<String>,
    /// Whether this editor user may bind the organisation (charter, convention).
    pub legal_representative: bool,
    /// When acting through an API token: what the token allows. `None` for a browser session.
    pub scopes: Option<Vec<Scope>>,
}

/// What an API token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Read the organisation's candidatures, threads and attachments.
    CandidaturesRead,
    /// Create, update, submit candidatures, answer complements, upload attachments.
    CandidaturesWrite,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::CandidaturesRead => "candidatures:read",
            Scope::CandidaturesWrite => "candidatures:write",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        [Scope::CandidaturesRead, Scope::CandidaturesWrite]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// An action on an object, with what the decision needs to know about the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<'a> {
    ViewOrganisation {
        organisation_id: &'a str,
    },
    EditOrganisation {
        organisation_id: &'a str,
    },
    InviteMember {
        organisation_id: &'a str,
    },
    AcceptCharter {
        organisation_id: &'a str,
    },
    CreateCandidature {
        organisation_id: &'a str,
    },
    ViewCandidature {
        organisation_id: &'a str,
    },
    EditCandidature {
        organisation_id: &'a str,
    },
    /// Download an attachment owned by an organisation.
    ViewAttachment {
        organisation_id: &'a str,
    },
    UploadAttachment {
        organisation_id: &'a str,
    },
    /// The agency's review queue and decisions.
    ReviewCandidatures,
    ManageUsers,
    CreateApiToken,
    /// Sign the convention: the legal representative, never through a token alone (the API
    /// signature also needs a fresh second-factor code).
    SignConvention {
        organisation_id: &'a str,
    },
    /// Generate the convention, review the lifting of reservations.
    PrepareConvention,
    /// Schedule and close the weekly committee sessions.
    ScheduleCommittee,
    /// Record a committee decision.
    DecideInCommittee,
    /// Audits, suspension and withdrawal of a référencement.
    SuperviseReferencing,
}

/// The refusal, worded for the user; deliberately the same whether the object exists or not
/// for objects of another organisation (handlers answer 404 then, not 403).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("cette action est réservée à d'autres profils d'utilisateurs")]
    Role,
    #[error("cet objet n'existe pas ou ne vous est pas accessible")]
    NotYours,
    #[error("cette action est réservée au représentant légal de l'organisation")]
    LegalRepresentativeOnly,
    #[error("ce jeton d'API ne permet pas cette action")]
    Scope,
}

fn own(actor: &Actor, organisation_id: &str) -> Result<(), Denied> {
    if actor.role != Role::Editor {
        return Err(Denied::Role);
    }
    match &actor.organisation_id {
        Some(own) if own == organisation_id => Ok(()),
        _ => Err(Denied::NotYours),
    }
}

fn scope(actor: &Actor, needed: Scope) -> Result<(), Denied> {
    match &actor.scopes {
        None => Ok(()),
        Some(scopes) if scopes.contains(&needed) => Ok(()),
        Some(_) => Err(Denied::Scope),
    }
}

/// Decides. Agency staff read every candidature and attachment; editors only their own
/// organisation's; binding acts need the legal representative; tokens are limited to their
/// scopes and never manage accounts.
pub fn authorize(actor: &Actor, action: &Action<'_>) -> Result<(), Denied> {
    let agency_reader = matches!(
        actor.role,
        Role::Instructor | Role::ProgrammeAdmin | Role::CommitteeMember
    );
    match action {
        Action::ViewOrganisation { organisation_id } => {
            if agency_reader {
                return scope(actor, Scope::CandidaturesRead);
            }
            own(actor, organisation_id)?;
            scope(actor, Scope::CandidaturesRead)
        }
        Action::EditOrganisation { organisation_id } | Action::InviteMember { organisation_id } => {
            own(actor, organisation_id)?;
            if actor.scopes.is_some() {
                return Err(Denied::Scope);
            }
            Ok(())
        }
        Action::AcceptCharter { organisation_id } => {
            own(actor, organisation_id)?;
            if actor.scopes.is_some() {
                return Err(Denied::Scope);
            }
            if actor.legal_representative {
                Ok(())
            } else {
                Err(Denied::LegalRepresentativeOnly)
            }
        }
        Action::CreateCandidature { organisation_id }
        | Action::EditCandidature { organisation_id }
        | Action::UploadAttachment { organisation_id } => {
            own(actor, organisation_id)?;
            scope(actor, Scope::CandidaturesWrite)
        }
        Action::ViewCandidature { organisation_id }
        | Action::ViewAttachment { organisation_id } => {
            if agency_reader {
                return scope(actor, Scope::CandidaturesRead);
            }
            own(actor, organisation_id)?;
            scope(actor, Scope::CandidaturesRead)
        }
        Action::ReviewCandidatures => {
            if actor.role != Role::Instructor {
                return Err(Denied::Role);
            }
            if actor.scopes.is_some() {
                return Err(Denied::Scope);
            }
            Ok(())
        }
        Action::ManageUsers => {
            if actor.role != Role::Admin {
                return Err(Denied::Role);
            }
            if actor.scopes.is_some() {
                return Err(Denied::Scope);
            }
            Ok(())
        }
        Action::CreateApiToken => {
            if actor.scopes.is_some() {
                Err(Denied::Scope)
            } else {
                Ok(())
            }
        }
        Action::SignConvention { organisation_id } => {
            own(actor, organisation_id)?;
            scope(actor, Scope::CandidaturesWrite)?;
            if actor.legal_representative {
                Ok(())
            } else {
                Err(Denied::LegalRepresentativeOnly)
            }
        }
        Action::PrepareConvention => staff(actor, &[Role::Instructor, Role::ProgrammeAdmin]),
        Action::ScheduleCommittee => staff(actor, &[Role::ProgrammeAdmin, Role::CommitteeMember]),
        Action::DecideInCommittee => staff(actor, &[Role::CommitteeMember]),
        Action::SuperviseReferencing => staff(actor, &[Role::ProgrammeAdmin]),
    }
}

/// An agency act reserved to `roles`, in a browser session.
fn staff(actor: &Actor, roles: &[Role]) -> Result<(), Denied> {
    if !roles.contains(&actor.role) {
        return Err(Denied::Role);
    }
    if actor.scopes.is_some() {
        return Err(Denied::Scope);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referencing_acts_belong_to_their_roles() {
        let org = "org-1";
        assert_eq!(
            authorize(
                &editor(org, true),
                &Action::SignConvention {
                    organisation_id: org
                }
            ),
            Ok(())
        );
        assert_eq!(
            authorize(
                &editor(org, false),
                &Action::SignConvention {
                    organisation_id: org
                }
            ),
            Err(Denied::LegalRepresentativeOnly)
        );
        assert_eq!(
            authorize(
                &editor("other", true),
                &Action::SignConvention {
                    organisation_id: org
                }
            ),
            Err(Denied::NotYours)
        );
        assert_eq!(
            authorize(&staff(Role::CommitteeMember), &Action::DecideInCommittee),
            Ok(())
        );
        assert_eq!(
            authorize(&staff(Role::Instructor), &Action::DecideInCommittee),
            Err(Denied::Role)
        );
        assert_eq!(
            authorize(&editor(org, true), &Action::DecideInCommittee),
            Err(Denied::Role)
        );
        assert_eq!(
            authorize(&staff(Role::ProgrammeAdmin), &Action::SuperviseReferencing),
            Ok(())
        );
        assert_eq!(
            authorize(&staff(Role::CommitteeMember), &Action::SuperviseReferencing),
            Err(Denied::Role)
        );
        assert_eq!(
            authorize(&staff(Role::Instructor), &Action::PrepareConvention),
            Ok(())
        );
        assert_eq!(
            authorize(&staff(Role::CommitteeMember), &Action::ScheduleCommittee),
            Ok(())
        );
        let mut token = staff(Role::CommitteeMember);
        token.scopes = Some(vec![Scope::CandidaturesWrite]);
        assert_eq!(
            authorize(&token, &Action::DecideInCommittee),
            Err(Denied::Scope)
        );
    }

    fn editor(org: &str, legal: bool) -> Actor {
        Actor {
            user_id: format!("u-{org}"),
            role: Role::Editor,
            organisation_id: Some(org.into()),
            legal_representative: legal,
            scopes: None,
        }
    }

    fn staff(role: Role) -> Actor {
        Actor {
            user_id: "s".into(),
            role,
            organisation_id: None,
            legal_representative: false,
            scopes: None,
        }
    }

    #[test]
    fn editors_reach_only_their_organisation() {
        let a = editor("A", false);
        for action in [
            Action::ViewOrganisation {
                organisation_id: "A",
            },
            Action::EditOrganisation {
                organisation_id: "A",
            },
            Action::CreateCandidature {
                organisation_id: "A",
            },
            Action::ViewCandidature {
                organisation_id: "A",
            },
            Action::EditCandidature {
                organisation_id: "A",
            },
            Action::ViewAttachment {
                organisation_id: "A",
            },
            Action::UploadAttachment {
                organisation_id: "A",
            },
        ] {
            assert_eq!(authorize(&a, &action), Ok(()), "{action:?}");
        }
        for action in [
            Action::ViewOrganisation {
                organisation_id: "B",
            },
            Action::EditOrganisation {
                organisation_id: "B",
            },
            Action::InviteMember {
                organisation_id: "B",
            },
            Action::AcceptCharter {
                organisation_id: "B",
            },
            Action::CreateCandidature {
                organisation_id: "B",
            },
            Action::ViewCandidature {
                organisation_id: "B",
            },
            Action::EditCandidature {
                organisation_id: "B",
            },
            Action::ViewAttachment {
                organisation_id: "B",
            },
            Action::UploadAttachment {
                organisation_id: "B",
            },
        ] {
            assert_eq!(authorize(&a, &action), Err(Denied::NotYours), "{action:?}");
        }
        let orphan = Actor {
            organisation_id: None,
            ..editor("A", false)
        };
        assert_eq!(
            authorize(
                &orphan,
                &Action::ViewCandidature {
                    organisation_id: "A"
                }
            ),
            Err(Denied::NotYours)
        );
        assert_eq!(
            authorize(&a, &Action::ReviewCandidatures),
            Err(Denied::Role)
        );
        assert_eq!(authorize(&a, &Action::ManageUsers), Err(Denied::Role));
    }

    #[test]
    fn only_the_legal_representative_accepts_the_charter() {
        assert_eq!(
            authorize(
                &editor("A", false),
                &Action::AcceptCharter {
                    organisation_id: "A"
                }
            ),
            Err(Denied::LegalRepresentativeOnly)
        );
        assert_eq!(
            authorize(
                &editor("A", true),
                &Action::AcceptCharter {
                    organisation_id: "A"
                }
            ),
            Ok(())
        );
    }

    #[test]
    fn agency_staff_read_and_instructors_review() {
        let i = staff(Role::Instructor);
        assert_eq!(
            authorize(
                &i,
                &Action::ViewCandidature {
                    organisation_id: "A"
                }
            ),
            Ok(())
        );
        assert_eq!(
            authorize(
                &i,
                &Action::ViewAttachment {
                    organisation_id: "A"
                }
            ),
            Ok(())
        );
        assert_eq!(authorize(&i, &Action::ReviewCandidatures), Ok(()));
        assert_eq!(
            authorize(
                &i,
                &Action::EditCandidature {
                    organisation_id: "A"
                }
            ),
            Err(Denied::Role)
        );
        assert_eq!(
            authorize(
                &staff(Role::PaymentAgent),
                &Action::ViewCandidature {
                    organisation_id: "A"
                }
            ),
            Err(Denied::Role)
        );
        assert_eq!(
            authorize(&staff(Role::CommitteeMember), &Action::ReviewCandidatures),
            Err(Denied::Role)
        );
        assert_eq!(authorize(&staff(Role::Admin), &Action::ManageUsers), Ok(()));
    }

    #[test]
    fn tokens_are_limited_to_their_scopes() {
        let read = Actor {
            scopes: Some(vec![Scope::CandidaturesRead]),
            ..editor("A", true)
        };
        assert_eq!(
            authorize(
                &read,
                &Action::ViewCandidature {
                    organisation_id: "A"
                }
            ),
            Ok(())
        );
        assert_eq!(
            authorize(
                &read,
                &Action::EditCandidature {
                    organisation_id: "A"
                }
            ),
            Err(Denied::Scope)
        );
        assert_eq!(
            authorize(
                &read,
                &Action::AcceptCharter {
                    organisation_id: "A"
                }
            ),
            Err(Denied::Scope)
        );
        assert_eq!(
            authorize(&read, &Action::CreateApiToken),
            Err(Denied::Scope)
        );
        let write = Actor {
            scopes: Some(vec![Scope::CandidaturesWrite]),
            ..editor("A", false)
        };
        assert_eq!(
            authorize(
                &write,
                &Action::EditCandidature {
                    organisation_id: "A"
                }
            ),
            Ok(())
        );
        assert_eq!(
            authorize(
                &write,
                &Action::ViewCandidature {
                    organisation_id: "A"
                }
            ),
            Err(Denied::Scope)
        );
        let admin_token = Actor {
            scopes: Some(vec![Scope::CandidaturesWrite]),
            ..staff(Role::Admin)
        };
        assert_eq!(
            authorize(&admin_token, &Action::ManageUsers),
            Err(Denied::Scope)
        );
    }
}
