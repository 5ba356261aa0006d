//! Schema-matching evaluation: Valentine's metrics ([`metrics`]) and table
//! pairs with known answers fabricated from real tables ([`fabricate`]).

pub mod fabricate;
pub mod metrics;
