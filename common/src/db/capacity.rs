//! An SDK interceptor that asks DynamoDB for the capacity every call
//! consumes and records it, with the call itself, in the request's
//! [`meter`](crate::meter). Asking costs nothing: the figures ride along in
//! the response.

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::{
    batch_get_item::{BatchGetItemInput, BatchGetItemOutput},
    batch_write_item::{BatchWriteItemInput, BatchWriteItemOutput},
    delete_item::{DeleteItemInput, DeleteItemOutput},
    get_item::{GetItemInput, GetItemOutput},
    put_item::{PutItemInput, PutItemOutput},
    query::{QueryInput, QueryOutput},
    transact_get_items::{TransactGetItemsInput, TransactGetItemsOutput},
    transact_write_items::{TransactWriteItemsInput, TransactWriteItemsOutput},
    update_item::{UpdateItemInput, UpdateItemOutput},
};
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};
use aws_smithy_types::config_bag::{Storable, StoreReplace};

use crate::meter;

#[derive(Debug)]
pub struct CapacityMeter;

/// An attempt's place in its request's sequence of round trips
/// ([`meter::db_call`]), from its sending to its answer.
#[derive(Debug, Clone, Copy)]
struct PlaceInSequence(u32);

impl Storable for PlaceInSequence {
    type Storer = StoreReplace<Self>;
}

/// Applies `$body` to the input or output downcast to whichever of the
/// operations the data layer uses it is.
macro_rules! each_operation {
    ($erased:expr, $method:ident, |$v:ident| $body:expr, [$($ty:ty),+]) => {
        $(if let Some($v) = $erased.$method::<$ty>() { $body; })+
    };
}

impl Intercept for CapacityMeter {
    fn name(&self) -> &'static str {
        "CapacityMeter"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input_mut();
        each_operation!(
            input,
            downcast_mut,
            |i| i.return_consumed_capacity = Some(ReturnConsumedCapacity::Total),
            [
                GetItemInput,
                PutItemInput,
                UpdateItemInput,
                DeleteItemInput,
                QueryInput,
                BatchGetItemInput,
                BatchWriteItemInput,
                TransactGetItemsInput,
                TransactWriteItemsInput
            ]
        );
        Ok(())
    }

    /// Once per HTTP attempt, so retries count as the round trips they are.
    fn read_before_transmit(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state()
            .store_put(PlaceInSequence(meter::db_call()));
        Ok(())
    }

    /// After every attempt, answered or not (a timeout too).
    fn read_after_attempt(
        &self,
        _: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(PlaceInSequence(place)) = cfg.load::<PlaceInSequence>() {
            meter::db_call_answered(*place);
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Ok(output) = context.output_or_error() else {
            return Ok(());
        };
        // Reads and writes are told apart by the operation: with TOTAL,
        // DynamoDB reports one figure, `CapacityUnits`.
        each_operation!(
            output,
            downcast_ref,
            |o| record(Units::Read, o.consumed_capacity.iter()),
            [GetItemOutput, QueryOutput]
        );
        each_operation!(
            output,
            downcast_ref,
            |o| record(Units::Read, o.consumed_capacity.iter().flatten()),
            [BatchGetItemOutput, TransactGetItemsOutput]
        );
        each_operation!(
            output,
            downcast_ref,
            |o| record(Units::Write, o.consumed_capacity.iter()),
            [PutItemOutput, UpdateItemOutput, DeleteItemOutput]
        );
        each_operation!(
            output,
            downcast_ref,
            |o| record(Units::Write, o.consumed_capacity.iter().flatten()),
            [BatchWriteItemOutput, TransactWriteItemsOutput]
        );
        Ok(())
    }
}

enum Units {
    Read,
    Write,
}

fn record<'a>(units: Units, consumed: impl Iterator<Item = &'a ConsumedCapacity>) {
    let total: f64 = consumed.filter_map(|c| c.capacity_units).sum();
    // On the SDK's span of this attempt, for the traces.
    crate::telemetry::traces::record_capacity(total);
    match units {
        Units::Read => meter::capacity(total, 0.0),
        Units::Write => meter::capacity(0.0, total),
    }
}
