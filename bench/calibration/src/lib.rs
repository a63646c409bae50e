//! The calibration's Rust workers: the same 680-byte canned JSON answered to any POST, through
//! workers-rs' `#[event(fetch)]` entry, or as bytes from one `#[wasm_bindgen]` call.

use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::{event, Context, Env, Request, Response, Result};

/// The canned answer (680 bytes, the same bytes as bench/calibration.mjs's JS worker sends).
const ANSWER: &[u8] = include_bytes!("../answer.json");

/// The workers-rs entry: read the body, answer the bytes with one header.
#[event(fetch)]
async fn fetch(mut req: Request, _env: Env, _ctx: Context) -> Result<Response> {
    let _body = req.bytes().await?;
    let mut response = Response::from_bytes(ANSWER.to_vec())?;
    response.headers_mut().set("content-type", "application/json")?;
    Ok(response)
}

/// One crossing: the request body in, the answer's bytes out (a JS main module makes the Response).
#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
pub fn answer(body: &[u8]) -> Vec<u8> {
    let _ = body.len();
    ANSWER.to_vec()
}
