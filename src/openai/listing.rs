//! `GET /v1/models` and `GET /v1/models/{id}`: our models, then the OpenAI names the images
//! endpoints take, as OpenAI's model objects (https://platform.openai.com/docs/api-reference/models).

use serde_json::{json, Value};

use super::error::ApiError;
use crate::catalog::SERVER_NAME;
use crate::models::{MODELS, OPENAI_ALIASES};

/// Every model id the images endpoints take, each as a model object.
pub fn list() -> Value {
    let data: Vec<Value> = ids().map(|(id, owner)| object(id, owner)).collect();
    json!({"object": "list", "data": data})
}

/// One model object, or OpenAI's 404 for an id that is none of ours.
pub fn one(id: &str) -> Result<Value, ApiError> {
    ids()
        .find(|(known, _)| *known == id)
        .map(|(id, owner)| object(id, owner))
        .ok_or_else(|| {
            ApiError::not_found(
                format!("The model '{}' does not exist", crate::catalog::echo(id)),
                Some("model_not_found"),
            )
        })
}

/// (id, owner): our models, owned by their publisher on Workers AI; the OpenAI names, by this server.
fn ids() -> impl Iterator<Item = (&'static str, &'static str)> {
    let ours = MODELS.iter().map(|spec| (spec.name, publisher(spec.workers_ai_id)));
    ours.chain(OPENAI_ALIASES.iter().map(|(alias, _)| (*alias, SERVER_NAME)))
}

/// The publisher in a Workers AI id (`@cf/<publisher>/<model>`).
fn publisher(workers_ai_id: &'static str) -> &'static str {
    workers_ai_id.split('/').nth(1).unwrap_or(workers_ai_id)
}

/// A model object. `created` is 0: the registry records no release dates.
fn object(id: &str, owned_by: &str) -> Value {
    json!({"id": id, "object": "model", "created": 0, "owned_by": owned_by})
}

/// The model an id names (ours or an OpenAI name), for tests of the listing.
#[cfg(test)]
fn resolves(id: &str) -> Option<crate::models::ImageModel> {
    crate::models::ImageModel::from_name(id).or_else(|| crate::models::openai_alias(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_and_openai_name_is_listed_and_each_can_be_fetched() {
        let listed = list();
        assert_eq!(listed["object"], "list");
        let data = listed["data"].as_array().unwrap();
        assert_eq!(data.len(), MODELS.len() + OPENAI_ALIASES.len());
        for entry in data {
            let id = entry["id"].as_str().unwrap();
            assert!(resolves(id).is_some(), "{id}");
            assert_eq!(entry["object"], "model");
            assert_eq!(&one(id).unwrap(), entry);
        }
        assert_eq!(data[0]["id"], "flux-schnell");
        assert_eq!(data[0]["owned_by"], "black-forest-labs");
        assert_eq!(data.last().unwrap()["owned_by"], SERVER_NAME);
    }

    #[test]
    fn an_unknown_id_is_openais_404() {
        let error = one("gpt-5").unwrap_err();
        assert_eq!((error.status, error.code), (404, Some("model_not_found")));
        assert_eq!(error.message, "The model 'gpt-5' does not exist");
    }
}
