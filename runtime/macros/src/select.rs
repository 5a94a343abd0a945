//! `select!`: waits on several futures and runs the branch of the first to complete.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Ident, Pat, Token};

/// The most branches one `select!` may have (one bit each in the disabled mask).
const MAX_BRANCHES: usize = 64;

pub(crate) struct Select {
    biased: bool,
    branches: Vec<Branch>,
    default: Option<Expr>,
}

struct Branch {
    pat: Pat,
    future: Expr,
    precondition: Option<Expr>,
    handler: Expr,
}

impl Parse for Select {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut select = Select {
            biased: false,
            branches: Vec::new(),
            default: None,
        };
        if input.peek(Ident) && input.peek2(Token![;]) {
            let ident: Ident = input.parse()?;
            if ident != "biased" {
                return Err(syn::Error::new(
                    ident.span(),
                    "expected `biased;` or a branch",
                ));
            }
            input.parse::<Token![;]>()?;
            select.biased = true;
        }
        while !input.is_empty() {
            let is_default = (input.peek(Ident) && input.peek2(Token![=>]) && {
                let fork = input.fork();
                fork.parse::<Ident>().is_ok_and(|ident| ident == "default")
            }) || (input.peek(Token![else]) && input.peek2(Token![=>]));
            if is_default {
                let span = input.span();
                if input.peek(Token![else]) {
                    input.parse::<Token![else]>()?;
                } else {
                    input.parse::<Ident>()?;
                }
                input.parse::<Token![=>]>()?;
                let handler = parse_handler(input)?;
                if select.default.replace(handler).is_some() {
                    return Err(syn::Error::new(
                        span,
                        "`select!` has more than one `default` branch",
                    ));
                }
                continue;
            }
            let pat = Pat::parse_multi_with_leading_vert(input)?;
            input.parse::<Token![=]>()?;
            let future: Expr = input.parse()?;
            let precondition = if input.peek(Token![,]) && input.peek2(Token![if]) {
                input.parse::<Token![,]>()?;
                input.parse::<Token![if]>()?;
                Some(input.parse::<Expr>()?)
            } else {
                None
            };
            input.parse::<Token![=>]>()?;
            let handler = parse_handler(input)?;
            select.branches.push(Branch {
                pat,
                future,
                precondition,
                handler,
            });
        }
        if select.branches.len() > MAX_BRANCHES {
            return Err(syn::Error::new(
                input.span(),
                format!("`select!` supports at most {MAX_BRANCHES} branches"),
            ));
        }
        Ok(select)
    }
}

/// A branch's handler: an expression, then a comma unless it is a block or the last branch.
fn parse_handler(input: ParseStream<'_>) -> syn::Result<Expr> {
    let handler: Expr = input.parse()?;
    let is_block = matches!(handler, Expr::Block(_));
    if input.is_empty() {
        return Ok(handler);
    }
    if is_block {
        input.parse::<Option<Token![,]>>()?;
    } else {
        input.parse::<Token![,]>()?;
    }
    Ok(handler)
}

/// Strips `mut` and `ref` from bindings, so a pattern can be tested against a reference
/// without moving or mutably borrowing the value.
struct CleanPattern;

impl VisitMut for CleanPattern {
    fn visit_pat_ident_mut(&mut self, pat: &mut syn::PatIdent) {
        pat.by_ref = None;
        pat.mutability = None;
        visit_mut::visit_pat_ident_mut(self, pat);
    }
}

pub(crate) fn expand(select: Select) -> TokenStream {
    let count = select.branches.len();
    let site = quote!(::runtime::__private::caller_site());

    if count == 0 {
        return match select.default {
            Some(handler) => quote!({ #handler }),
            None => quote!({
                let __parkade_site = #site;
                ::runtime::__private::select_forever(__parkade_site).await
            }),
        };
    }

    let variants: Vec<Ident> = (0..count).map(|i| format_ident!("_{}", i)).collect();
    let type_params: Vec<Ident> = (0..count).map(|i| format_ident!("__T{}", i)).collect();
    let futures: Vec<Ident> = (0..count)
        .map(|i| format_ident!("__parkade_future_{}", i))
        .collect();

    let preconditions = select.branches.iter().enumerate().map(|(i, branch)| {
        let bit = 1u64 << i;
        branch
            .precondition
            .as_ref()
            .map(|cond| quote!(if !(#cond) { __parkade_disabled |= #bit; }))
    });

    let futures_init = select.branches.iter().zip(&futures).map(|(branch, name)| {
        let expr = &branch.future;
        quote_spanned!(expr.span()=>
            let mut #name = ::core::pin::pin!(::core::future::IntoFuture::into_future(#expr));
        )
    });

    let poll_arms = select.branches.iter().enumerate().map(|(i, branch)| {
        let bit = 1u64 << i;
        let name = &futures[i];
        let variant = &variants[i];
        let mut pat = branch.pat.clone();
        CleanPattern.visit_pat_mut(&mut pat);
        // The poll call carries the branch expression's span, so a `#[track_caller]` poll
        // (a `JoinHandle`, a oneshot receiver) records the branch's own site.
        let poll = quote_spanned!(branch.future.span()=>
            ::core::future::Future::poll(#name.as_mut(), __parkade_cx)
        );
        quote! {
            #i => {
                if __parkade_disabled & #bit != 0 {
                    continue;
                }
                let __parkade_value = match #poll {
                    ::core::task::Poll::Ready(value) => value,
                    ::core::task::Poll::Pending => {
                        __parkade_pending = true;
                        continue;
                    }
                };
                // A completed future is never polled again.
                __parkade_disabled |= #bit;
                #[allow(unused_variables, clippy::redundant_pattern_matching)]
                match &__parkade_value {
                    #pat => {}
                    #[allow(unreachable_patterns)]
                    _ => continue,
                }
                ::core::mem::drop(__parkade_cases);
                return ::core::task::Poll::Ready(__ParkadeOut::#variant(__parkade_value));
            }
        }
    });

    let handlers = select.branches.iter().enumerate().map(|(i, branch)| {
        let variant = &variants[i];
        let pat = &branch.pat;
        let handler = &branch.handler;
        quote!(__ParkadeOut::#variant(#pat) => { #handler })
    });

    let biased = select.biased;
    let count_u32 = count as u32;
    // Which branch to poll `k`-th: rotate from the start (`% 1` would trip clippy).
    let branch_index = if count == 1 {
        quote!(__parkade_k as usize)
    } else {
        quote!(((__parkade_start + __parkade_k) % #count_u32) as usize)
    };
    let (tail, default_arm) = match &select.default {
        Some(handler) => (
            quote! {
                // Nothing ready: `default` runs instead of parking.
                ::core::mem::drop(__parkade_cases);
                ::core::task::Poll::Ready(__ParkadeOut::Default)
            },
            quote!(__ParkadeOut::Default => { #handler }),
        ),
        None => (
            quote! {
                // Every enabled branch is pending (or none is enabled: parked forever, as
                // Go's select on nil channels).
                __parkade_cases.parked(__parkade_site, !__parkade_pending);
                ::core::task::Poll::Pending
            },
            quote!(),
        ),
    };

    quote! {{
        #[allow(dead_code, non_camel_case_types)]
        enum __ParkadeOut<#(#type_params),*> {
            #(#variants(#type_params),)*
            Default,
        }
        let __parkade_site = #site;
        let mut __parkade_disabled: u64 = 0;
        #(#preconditions)*
        #(#futures_init)*
        let __parkade_out = ::core::future::poll_fn(|__parkade_cx| {
            let __parkade_cases = ::runtime::__private::SelectCases::begin();
            let __parkade_start = if #biased {
                0
            } else {
                ::runtime::__private::random_below(#count_u32)
            };
            let mut __parkade_pending = false;
            for __parkade_k in 0..#count_u32 {
                match #branch_index {
                    #(#poll_arms)*
                    _ => ::core::unreachable!(),
                }
            }
            #tail
        })
        .await;
        #[allow(unreachable_patterns, unused_variables)]
        match __parkade_out {
            #(#handlers,)*
            #default_arm
            _ => ::core::unreachable!("select! branch pattern did not match its checked value"),
        }
    }}
}
