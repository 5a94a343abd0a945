//! Renders, exports, serves and analyses [`runtime::Profile`] (work in progress: see issue 4).
