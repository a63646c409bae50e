//! The "exactly one of `job_id` or `job_ids`" argument pair that the tools acting on jobs by id
//! share (wait_for_completion, cancel_job, delete_image): one declaration, one rule, one message.

use serde_json::{Map, Value};

use super::args::{arg, Arg, ArgError, Declaration, Field, FieldKind};
use crate::catalog::{JOB_ID_MAX_CHARS, WAIT_JOB_IDS_MIN};

/// The job ids a call names: `job_id` or `job_ids` as the client sent them.
#[derive(Debug)]
pub struct JobIds {
    pub job_id: Option<String>,
    pub job_ids: Option<Vec<String>>,
}

impl JobIds {
    /// The ids asked for, in order, when exactly one of the two arguments was given.
    pub fn ids(self) -> Result<Vec<String>, ArgError> {
        match (self.job_id, self.job_ids) {
            (Some(id), None) => Ok(vec![id]),
            (None, Some(ids)) => Ok(ids),
            (Some(_), Some(_)) => Err(ArgError("pass either job_id or job_ids, not both".into())),
            (None, None) => Err(ArgError("job_id or job_ids is required".into())),
        }
    }

    /// The refusal of a call naming both, for the tools' sample results.
    #[cfg(test)]
    pub fn both_for_samples() -> ArgError {
        JobIds {
            job_id: Some("a".into()),
            job_ids: Some(vec!["b".into()]),
        }
        .ids()
        .unwrap_err()
    }
}

/// Declares the pair `job_id` (described by `one`) and `job_ids` (described by `several`, at
/// most `max_ids` ids); the struct field holding it may have any name.
pub struct JobIdsArgs {
    one: &'static str,
    several: String,
    max_ids: usize,
}

/// The pair's declaration; the descriptions say what the tool does with the jobs.
pub fn job_ids_args(one: &'static str, several: impl Into<String>, max_ids: usize) -> JobIdsArgs {
    JobIdsArgs {
        one,
        several: several.into(),
        max_ids,
    }
}

impl Declaration<JobIds> for JobIdsArgs {
    fn declare(self, _name: &'static str, fields: &mut Vec<Field>) {
        let one = arg(
            self.one,
            FieldKind::Text {
                min_len: 1,
                max_len: Some(JOB_ID_MAX_CHARS),
            },
        );
        let several = arg(
            self.several,
            FieldKind::TextList {
                min_items: WAIT_JOB_IDS_MIN,
                max_items: self.max_ids,
                max_len: JOB_ID_MAX_CHARS,
            },
        );
        Declaration::<Option<String>>::declare(one, "job_id", fields);
        Declaration::<Option<Vec<String>>>::declare(several, "job_ids", fields);
    }

    fn read(_name: &str, validated: &Map<String, Value>) -> Result<JobIds, ArgError> {
        Ok(JobIds {
            job_id: <Arg as Declaration<_>>::read("job_id", validated)?,
            job_ids: <Arg as Declaration<_>>::read("job_ids", validated)?,
        })
    }
}
