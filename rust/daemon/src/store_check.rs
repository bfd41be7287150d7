//! `store_check`: the full integrity check on demand (issue 16). The open
//! reads every page only after an unclean stop; an operator who wants the
//! whole file read asks for it here.

use dmnonce_control::{StoreCheckResult, WireError};
use serde_json::Value;

use crate::shared::{store_error, Shared};

/// Runs [`dmnonce_store::Store::check`]. A damaged store answers every
/// later request with a `store` error, and the next start moves it aside
/// and recovers; a healthy result changes nothing.
pub(crate) fn run(shared: &Shared) -> Result<Value, WireError> {
    let report = shared.store.check().map_err(store_error)?;
    if report.is_healthy() {
        log::info!("store check: {} page(s), no problem", report.pages);
    } else {
        log::error!(
            "store check: {} page(s): {}",
            report.pages,
            report.problems.join("; ")
        );
    }
    serde_json::to_value(StoreCheckResult {
        healthy: report.is_healthy(),
        pages: report.pages,
        problems: report.problems,
    })
    .map_err(|e| WireError::new(dmnonce_control::ErrorCode::Internal, e.to_string()))
}
