//! The subcommands, each a thin orchestration of the stages below: [`inspect`], [`dump`],
//! [`plan`] (the `plan` subcommand) and [`export`]; [`starts`], the 2.x partition scan that
//! planning falls back to.
pub mod dump;
pub mod export;
pub mod inspect;
pub mod plan;
pub mod starts;
