//! The `manual` provider: the gift is pledged, the donor gets the configured payment
//! instructions, and staff mark it paid when the money arrives.

use chrono::NaiveDateTime;

use crate::error::AppError;

use super::{Checkout, PaymentProvider};
use crate::donations::model::Status;
use crate::donations::store::{Donation, Payment};

#[derive(Debug, Clone, Copy, Default)]
pub struct Manual;

impl PaymentProvider for Manual {
    fn kind(&self) -> &'static str {
        "manual"
    }

    fn initial_status(&self) -> Status {
        Status::Pledged
    }

    async fn begin_checkout(&self, _donation: &Donation) -> Result<Checkout, AppError> {
        Ok(Checkout {
            status: Status::Pledged,
            session_id: None,
            url: None,
        })
    }

    /// Nothing to tell a processor: the newsroom simply stops expecting transfers.
    async fn cancel_recurring(&self, _donation: &Donation) -> Result<(), AppError> {
        Ok(())
    }

    async fn refund(&self, _payment: &Payment) -> Result<String, AppError> {
        Err(AppError::Conflict(
            "Pledges paid by transfer are refunded outside Frontdesk.".into(),
        ))
    }

    /// A pledge's amount is what the donor transfers: only the stored gift changes.
    async fn change_amount(&self, _donation: &Donation, _total_minor: i64) -> Result<(), AppError> {
        Ok(())
    }

    /// The newsroom simply expects no transfer (and sends no reminder) until then.
    async fn pause(
        &self,
        _donation: &Donation,
        _until: Option<NaiveDateTime>,
    ) -> Result<(), AppError> {
        Ok(())
    }

    async fn card_page(
        &self,
        _donation: &Donation,
        _return_url: &str,
    ) -> Result<Option<String>, AppError> {
        Ok(None)
    }
}
