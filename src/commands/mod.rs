//! The subcommands, each a thin orchestration of the stages below: [`inspect`], [`dump`],
//! [`plan`] (the `plan` subcommand) and [`export`].
pub mod dump;
pub mod export;
pub mod inspect;
pub mod plan;
