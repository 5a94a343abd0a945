//! Attribute macros `#[runtime::main]` and `#[runtime::test]` for the Parkade runtime: they turn
//! an `async fn` into an ordinary synchronous function that builds a Parkade `Runtime` and
//! drives the original body to completion on it with `Runtime::block_on`, the same way
//! `#[tokio::main]` and `#[tokio::test]` do for Tokio. Use them through the `runtime` crate's
//! re-exports rather than depending on this crate directly.
#![warn(missing_docs)]

mod select;

use proc_macro::TokenStream;
use proc_macro2::{Ident, Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, ItemFn, Lit, LitInt, Meta, ReturnType, Token};

/// Runs an `async fn` on a freshly built multi-threaded Parkade runtime.
///
/// The function keeps its name, visibility, attributes and return type but becomes
/// synchronous: calling it builds a `runtime::Runtime` with `runtime::Builder` (one worker
/// per available core unless `worker_threads` is given), blocks on the original body and
/// returns its output. The function may have any name but cannot take arguments.
///
/// Arguments:
///
/// * `worker_threads = N`: run `N` worker threads (`N` must be an integer literal above 0).
///
/// ```rust,ignore
/// use std::error::Error;
///
/// #[runtime::main(worker_threads = 4)]
/// async fn main() -> Result<(), Box<dyn Error>> {
///     let handle = runtime::spawn(async { 6 * 7 });
///     assert_eq!(handle.await, 42);
///     Ok(())
/// }
/// ```
///
/// expands to roughly
///
/// ```rust,ignore
/// fn main() -> Result<(), Box<dyn Error>> {
///     let body = async { /* original body */ };
///     ::runtime::Builder::new()
///         .worker_threads(4)
///         .build()
///         .expect("failed to build the Parkade runtime")
///         .block_on(body)
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` as a `#[test]`, on a fresh Parkade runtime per test.
///
/// The function becomes a synchronous `#[test]` function that builds a new `runtime::Runtime`
/// (2 worker threads unless `worker_threads` is given) and blocks on the original body. Other
/// attributes such as `#[should_panic]` or `#[ignore]` and a `Result` return type are kept.
/// Do not add a separate `#[test]` attribute.
///
/// Arguments, which can be combined:
///
/// * `worker_threads = N`: run `N` worker threads (`N` must be an integer literal above 0).
/// * `leak_check`: start a `runtime::LeakCheck` (goleak's `VerifyNone`; also exported as
///   `profiler::LeakCheck`) before the body and, once the body has finished, await
///   `assert_none()` on it, failing the test if any task was leaked.
///
/// ```rust,ignore
/// #[runtime::test]
/// async fn spawned_task_completes() {
///     assert_eq!(runtime::spawn(async { 1 + 1 }).await, 2);
/// }
///
/// #[runtime::test(leak_check, worker_threads = 4)]
/// async fn leaves_no_task_behind() -> Result<(), std::io::Error> {
///     do_io().await?;
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Test, args.into(), item.into()).into()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    fn attribute(self) -> &'static str {
        match self {
            Kind::Main => "#[runtime::main]",
            Kind::Test => "#[runtime::test]",
        }
    }

    fn valid_args(self) -> &'static str {
        match self {
            Kind::Main => "`worker_threads`",
            Kind::Test => "`worker_threads`, `leak_check`",
        }
    }
}

/// Parsed macro arguments.
#[derive(Default)]
struct Config {
    worker_threads: Option<LitInt>,
    leak_check: bool,
}

fn expand(kind: Kind, args: TokenStream2, item: TokenStream2) -> TokenStream2 {
    // On a malformed item, hand it back untouched so rustc reports the syntax error itself.
    let input: ItemFn = match syn::parse2(item.clone()) {
        Ok(input) => input,
        Err(err) => return with_error(item, err),
    };

    // On any other error, still expand with the arguments that did parse: the result stays
    // close to the intended item, so the only error the user sees is ours.
    let mut errors: Option<syn::Error> = None;
    let mut push = |err: syn::Error| match &mut errors {
        Some(errors) => errors.combine(err),
        None => errors = Some(err),
    };

    let config = parse_config(kind, args).unwrap_or_else(|(config, err)| {
        push(err);
        config
    });
    if let Err(err) = check_fn(kind, &input) {
        push(err);
    }

    let expanded = expand_fn(kind, input, &config);
    match errors {
        Some(err) => with_error(expanded, err),
        None => expanded,
    }
}

fn with_error(mut tokens: TokenStream2, err: syn::Error) -> TokenStream2 {
    tokens.extend(err.into_compile_error());
    tokens
}

/// Parses the arguments. On error returns what was understood along with the error.
fn parse_config(kind: Kind, args: TokenStream2) -> Result<Config, (Config, syn::Error)> {
    let mut config = Config::default();
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
        Ok(metas) => metas,
        Err(err) => return Err((config, err)),
    };

    let mut errors: Option<syn::Error> = None;
    for meta in metas {
        if let Err(err) = apply_arg(kind, &mut config, &meta) {
            match &mut errors {
                Some(errors) => errors.combine(err),
                None => errors = Some(err),
            }
        }
    }
    match errors {
        Some(err) => Err((config, err)),
        None => Ok(config),
    }
}

fn apply_arg(kind: Kind, config: &mut Config, meta: &Meta) -> syn::Result<()> {
    let path = meta.path();
    let name = path.get_ident().map_or_else(
        || path.to_token_stream().to_string().replace(' ', ""),
        ToString::to_string,
    );

    match name.as_str() {
        "worker_threads" => {
            let Meta::NameValue(nv) = meta else {
                return Err(syn::Error::new_spanned(
                    meta,
                    "`worker_threads` needs a value, e.g. `worker_threads = 4`",
                ));
            };
            if config.worker_threads.is_some() {
                return Err(syn::Error::new_spanned(
                    meta,
                    "`worker_threads` is set more than once",
                ));
            }
            let Expr::Lit(ExprLit {
                lit: Lit::Int(lit), ..
            }) = &nv.value
            else {
                return Err(syn::Error::new_spanned(
                    &nv.value,
                    "`worker_threads` must be an integer literal, e.g. `worker_threads = 4`",
                ));
            };
            let threads: usize = lit.base10_parse().map_err(|_| {
                syn::Error::new_spanned(
                    lit,
                    "`worker_threads` must be an integer literal that fits in a `usize`",
                )
            })?;
            if threads == 0 {
                return Err(syn::Error::new_spanned(
                    lit,
                    "`worker_threads` may not be 0: the runtime needs at least one worker thread",
                ));
            }
            // Re-emit unsuffixed so `2u8` still reaches `worker_threads(usize)`.
            config.worker_threads = Some(LitInt::new(&threads.to_string(), lit.span()));
            Ok(())
        }
        "leak_check" if kind == Kind::Test => {
            if !matches!(meta, Meta::Path(_)) {
                return Err(syn::Error::new_spanned(
                    meta,
                    "`leak_check` takes no value: write `#[runtime::test(leak_check)]`",
                ));
            }
            if config.leak_check {
                return Err(syn::Error::new_spanned(
                    meta,
                    "`leak_check` is given more than once",
                ));
            }
            config.leak_check = true;
            Ok(())
        }
        _ => Err(syn::Error::new_spanned(
            meta.path(),
            format!(
                "unknown argument `{name}` for `{}`; valid arguments are: {}",
                kind.attribute(),
                kind.valid_args()
            ),
        )),
    }
}

fn check_fn(kind: Kind, input: &ItemFn) -> syn::Result<()> {
    let mut errors: Vec<syn::Error> = Vec::new();

    if input.sig.asyncness.is_none() {
        errors.push(syn::Error::new_spanned(
            input.sig.fn_token,
            "the `async` keyword is missing from the function declaration",
        ));
    }

    if !input.sig.inputs.is_empty() {
        let msg = match kind {
            Kind::Main => "the `#[runtime::main]` function cannot accept arguments",
            Kind::Test => "the `#[runtime::test]` function cannot accept arguments",
        };
        errors.push(syn::Error::new_spanned(&input.sig.inputs, msg));
    }

    if kind == Kind::Test {
        if let Some(attr) = input.attrs.iter().find(|attr| is_test_attr(attr)) {
            errors.push(syn::Error::new_spanned(
                attr,
                "second test attribute is supplied: `#[runtime::test]` already marks the \
                 function as a test, remove this one",
            ));
        }
    }

    let mut errors = errors.into_iter();
    match errors.next() {
        Some(mut first) => {
            errors.for_each(|err| first.combine(err));
            Err(first)
        }
        None => Ok(()),
    }
}

/// `#[test]`, `#[core::prelude::v1::test]`, `#[::std::prelude::rust_2021::test]`, ...
fn is_test_attr(attr: &syn::Attribute) -> bool {
    let segments: Vec<String> = attr
        .path()
        .segments
        .iter()
        .map(|seg| seg.ident.to_string())
        .collect();
    match segments.as_slice() {
        [only] => only == "test",
        [krate, prelude, _, last] => {
            (krate == "core" || krate == "std") && prelude == "prelude" && last == "test"
        }
        _ => false,
    }
}

fn expand_fn(kind: Kind, mut input: ItemFn, config: &Config) -> TokenStream2 {
    input.sig.asyncness = None;

    // Spans of the body's last statement: generated code that can fail to type-check
    // (the output type, the `block_on` call) points there instead of at the attribute.
    let (last_start, last_end) = {
        let mut tokens = input
            .block
            .stmts
            .last()
            .map(ToTokens::into_token_stream)
            .unwrap_or_default()
            .into_iter();
        let start = tokens
            .next()
            .map_or_else(|| input.block.brace_token.span.join(), |tt| tt.span());
        let end = tokens.last().map_or(start, |tt| tt.span());
        (start, end)
    };

    // One identifier for the future, whatever span the surrounding tokens carry.
    let fut = Ident::new("body", Span::call_site());
    let user_block = &input.block;
    let future = if config.leak_check {
        quote! {
            async {
                let __parkade_leak_check = ::runtime::LeakCheck::start();
                let __parkade_output = async #user_block.await;
                __parkade_leak_check.assert_none().await;
                __parkade_output
            }
        }
    } else {
        quote! { async #user_block }
    };

    // Tests pin the future behind `dyn Future` so every test shares one `block_on`
    // instantiation; it also pins down the output type for `?` inside the body.
    let body_setup = match kind {
        Kind::Main => quote! {
            let #fut = #future;
        },
        Kind::Test => {
            let output = match &input.sig.output {
                ReturnType::Default => quote_spanned! {last_end=> () },
                ReturnType::Type(_, ty) => ty.to_token_stream(),
            };
            quote_spanned! {last_end=>
                let #fut = #future;
                let #fut = ::core::pin::pin!(#fut);
                let #fut: ::core::pin::Pin<&mut dyn ::core::future::Future<Output = #output>> =
                    #fut;
            }
        }
    };

    let worker_threads = match (&config.worker_threads, kind) {
        (Some(n), _) => quote_spanned! {n.span()=> .worker_threads(#n) },
        (None, Kind::Test) => quote_spanned! {last_start=> .worker_threads(2) },
        (None, Kind::Main) => TokenStream2::new(),
    };
    let builder = quote_spanned! {last_start=> ::runtime::Builder::new() #worker_threads };
    let run = quote_spanned! {last_end=>
        #builder
            .build()
            .expect("failed to build the Parkade runtime")
            .block_on(#fut)
    };

    let test_attr = match kind {
        Kind::Test => quote! { #[::core::prelude::v1::test] },
        Kind::Main => TokenStream2::new(),
    };
    let attrs = &input.attrs;
    let vis = &input.vis;
    let sig = &input.sig;
    let brace = input.block.brace_token;
    let mut block = TokenStream2::new();
    brace.surround(&mut block, |tokens| {
        body_setup.to_tokens(tokens);
        run.to_tokens(tokens);
    });

    quote! {
        #test_attr
        #(#attrs)*
        #vis #sig #block
    }
}

/// Waits on several futures at once and runs the branch of the first to complete, like Go's
/// `select`. Re-exported as `runtime::select!`; see its documentation there.
#[proc_macro]
pub fn select(input: TokenStream) -> TokenStream {
    match syn::parse::<select::Select>(input) {
        Ok(parsed) => select::expand(parsed).into(),
        Err(error) => error.to_compile_error().into(),
    }
}
