//! Community-detection evaluation: LFR benchmark graphs with planted
//! communities ([`lfr`]), text edge lists with known groups ([`edge_list`]),
//! and measurements against those groups ([`evaluate`]).

pub mod edge_list;
pub mod evaluate;
pub mod lfr;
