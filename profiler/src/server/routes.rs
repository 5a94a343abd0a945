//! Which path serves what, and the handlers: each validates its parameters, takes one
//! snapshot and renders it.

use super::http::{Request, Response, Status, HTML, JSON, PROMETHEUS, TEXT};
use super::query::Query;
use super::renders::{Profiles, Render};
use super::{index, leak_dump, metrics, render, vars};
use std::io::{self, Write};
use std::sync::Arc;

/// A path the endpoint serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Index,
    Tasks,
    Leaks,
    Park,
    Metrics,
    Vars,
    Live,
}

impl Endpoint {
    fn from_path(path: &str) -> Option<Endpoint> {
        Some(match path {
            "/debug/pprof/" | "/debug/pprof" => Endpoint::Index,
            "/debug/pprof/goroutine" | "/debug/pprof/tasks" => Endpoint::Tasks,
            "/debug/pprof/goroutineleak" => Endpoint::Leaks,
            "/debug/pprof/park" => Endpoint::Park,
            "/metrics" => Endpoint::Metrics,
            "/debug/vars" => Endpoint::Vars,
            "/debug/pprof/live" => Endpoint::Live,
            _ => return None,
        })
    }
}

/// The response to `request`, whatever it holds.
pub(super) fn route(request: &Request, profiles: &Arc<Profiles>) -> Response {
    let Some((path, query)) = split_target(&request.target) else {
        return Response::text(
            Status::BAD_REQUEST,
            "400 bad request: the request target must be a path such as /debug/pprof/\n",
        );
    };
    let Some(endpoint) = Endpoint::from_path(path) else {
        return Response::text(Status::NOT_FOUND, "404 page not found\n");
    };
    if !matches!(request.method.as_str(), "GET" | "HEAD") {
        return Response::text(
            Status::METHOD_NOT_ALLOWED,
            format!("405 method not allowed: {path} answers GET (and HEAD) only\n"),
        )
        .header("Allow", "GET, HEAD");
    }
    let handled = Query::parse(query).and_then(|query| match endpoint {
        Endpoint::Index => serve_index(profiles),
        Endpoint::Tasks => serve_tasks(&query, profiles),
        Endpoint::Leaks => serve_leaks(&query, profiles),
        Endpoint::Park => serve_park(&query, profiles),
        Endpoint::Metrics => Ok(serve_metrics(profiles)),
        Endpoint::Vars => serve_vars(profiles),
        Endpoint::Live => Ok(Response::full(
            Status::OK,
            HTML,
            LIVE_PAGE.as_bytes().to_vec(),
        )),
    });
    handled.unwrap_or_else(|error| error)
}

/// `/debug/pprof/live`: one self-contained page (no external assets) that reads
/// `goroutine?debug=json` every few seconds.
const LIVE_PAGE: &str = include_str!("live.html");

/// The path and query of a request target in origin form (`/path?query`) or absolute form
/// (`http://host/path?query`, which proxies send); `None` for anything else (`*`).
pub(super) fn split_target(target: &str) -> Option<(&str, &str)> {
    let target = target.split_once('#').map_or(target, |(before, _)| before);
    let path_and_query = if target.starts_with('/') {
        target
    } else {
        let scheme_end = target.find("://")?;
        let scheme = &target[..scheme_end];
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return None;
        }
        let after_authority = &target[scheme_end + 3..];
        match after_authority.find(['/', '?']) {
            Some(start) if after_authority[start..].starts_with('/') => &after_authority[start..],
            Some(start) => return Some(("/", &after_authority[start + 1..])),
            None => "/",
        }
    };
    Some(
        path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, "")),
    )
}

/// The index: counts, no snapshot (a page people reload must not cost a profile).
fn serve_index(profiles: &Arc<Profiles>) -> Result<Response, Response> {
    let counts = profiles.task_counts();
    let page = index::render(&index::Counts {
        tasks: counts.total(),
        leaks: counts.unwakeable() + counts.parked_at_least(),
        park_sites: profiles.handle().park_sites().len(),
    });
    Ok(Response::full(Status::OK, HTML, page.into_bytes()))
}

/// `goroutine` / `tasks`: the whole task profile.
fn serve_tasks(query: &Query, profiles: &Arc<Profiles>) -> Result<Response, Response> {
    if query.get("debug") == Some("json") {
        return serve_json(query, profiles);
    }
    let debug = query.debug(2)?;
    let snapshot = profiles.render()?;
    match debug {
        0 => shared(&snapshot, "goroutine?debug=0", |profile| {
            Ok(render::pprof(profile))
        })
        .map(|body| Response::attachment("goroutine", body)),
        1 => shared_text(&snapshot, "goroutine?debug=1", |w, profile| {
            render::grouped(w, profile)
        }),
        // The slot is held until the body is written.
        _ => Ok(Response::stream(TEXT, move |w| {
            render::tasks(w, snapshot.profile())
        })),
    }
}

/// `goroutine?debug=json`: groups, totals, deadlocks and a page of tasks
/// (`limit`, `offset`, `group`), as `profiler::json` documents.
fn serve_json(query: &Query, profiles: &Arc<Profiles>) -> Result<Response, Response> {
    let page = crate::json::Page {
        limit: query.number("limit")?.unwrap_or(0),
        offset: query.number("offset")?.unwrap_or(0),
        group: query.number("group")?,
    };
    let snapshot = profiles.render()?;
    let body = crate::json::render(snapshot.profile(), &page)
        .map_err(|err| Response::text(Status::BAD_REQUEST, format!("400 bad request: {err}\n")))?;
    Ok(Response::full(Status::OK, JSON, body))
}

/// `goroutineleak`: only the proven and suspected leaks.
///
/// `debug=0` is the pprof profile of the leaked tasks only; without a `debug` parameter the
/// grouped text (`debug=1`) is served.
fn serve_leaks(query: &Query, profiles: &Arc<Profiles>) -> Result<Response, Response> {
    let debug = match query.get("debug") {
        None | Some("") => 1,
        Some(_) => query.debug(2)?,
    };
    let min_parked = query.min_parked(render::default_min_parked())?;
    let snapshot = profiles.render()?;
    let key = format!(
        "goroutineleak?debug={debug}&min_parked={}ns",
        min_parked.as_nanos()
    );
    let handle = profiles.handle();
    match debug {
        0 => shared(&snapshot, &key, |profile| {
            let leaks = render::leaks(profile, min_parked, handle);
            let leaked: std::collections::HashSet<runtime::TaskId> = leaks
                .proven
                .iter()
                .chain(&leaks.suspected)
                .map(|task| task.id())
                .collect();
            // A copy with only the leaked tasks, made under the same slot: the copy is freed
            // before the slot is given back.
            let mut leaked_only = runtime::Profile::clone(profile);
            leaked_only.retain(|task| leaked.contains(&task.id()));
            Ok(render::pprof(&leaked_only))
        })
        .map(|body| Response::attachment("goroutineleak", body)),
        1 => shared_text(&snapshot, &key, |w, profile| {
            let leaks = render::leaks(profile, min_parked, handle);
            leak_dump::write_grouped(w, &leaks, min_parked)
        }),
        _ => {
            let leaks = render::leaks(snapshot.profile(), min_parked, handle);
            drop(snapshot);
            Ok(Response::stream(TEXT, move |w| {
                leak_dump::write_tasks(w, &leaks, min_parked)
            }))
        }
    }
}

/// `park`: cumulative park time and count by reason and site.
fn serve_park(query: &Query, profiles: &Arc<Profiles>) -> Result<Response, Response> {
    let debug = query.debug(1)?;
    let snapshot = profiles.render()?;
    match debug {
        0 => shared(&snapshot, "park?debug=0", |profile| {
            Ok(render::park_pprof(profile))
        })
        .map(|body| Response::attachment("park", body)),
        _ => shared_text(&snapshot, "park?debug=1", |w, profile| {
            render::park_text(w, profile)
        }),
    }
}

/// A body rendered from `snapshot` once for every request that shares the snapshot (`key`
/// names what else it depends on).
fn shared(
    snapshot: &Render,
    key: &str,
    render: impl FnOnce(&runtime::Profile) -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, Response> {
    snapshot
        .rendered(key.to_owned(), render)
        .map_err(|err| internal_error(&err))
}

/// A text body rendered once per snapshot, as [`shared`].
fn shared_text(
    snapshot: &Render,
    key: &str,
    write: impl FnOnce(&mut dyn Write, &runtime::Profile) -> io::Result<()>,
) -> Result<Response, Response> {
    let body = shared(snapshot, key, |profile| {
        let mut body = Vec::new();
        write(&mut body, profile).map_err(|err| err.to_string())?;
        Ok(body)
    })?;
    Ok(Response::full(Status::OK, TEXT, body))
}

fn serve_metrics(profiles: &Profiles) -> Response {
    let handle = profiles.handle();
    let page = metrics::render(
        &profiles.task_counts(),
        &handle.park_sites(),
        &handle.running_polls(),
    );
    Response::full(Status::OK, PROMETHEUS, page.into_bytes())
}

fn serve_vars(profiles: &Profiles) -> Result<Response, Response> {
    let body =
        vars::render(&profiles.handle().task_counts()).map_err(|err| internal_error(&err))?;
    Ok(Response::full(Status::OK, JSON, body))
}

/// The `500` of a renderer that failed (a bug: the renderers write to memory).
fn internal_error(err: &dyn std::fmt::Display) -> Response {
    Response::text(
        Status::INTERNAL_SERVER_ERROR,
        format!("500 internal server error: {err}\n"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_origin_and_absolute_targets() {
        assert_eq!(split_target("/metrics"), Some(("/metrics", "")));
        assert_eq!(
            split_target("/debug/pprof/goroutine?debug=1#top"),
            Some(("/debug/pprof/goroutine", "debug=1"))
        );
        assert_eq!(
            split_target("http://localhost:6060/debug/vars?x"),
            Some(("/debug/vars", "x"))
        );
        assert_eq!(split_target("HTTP://host"), Some(("/", "")));
        assert_eq!(split_target("http://host?debug=1"), Some(("/", "debug=1")));
        assert_eq!(split_target("*"), None);
        assert_eq!(split_target("ftp://host/metrics"), None);
        assert_eq!(split_target("metrics"), None);
    }

    #[test]
    fn knows_its_paths() {
        assert_eq!(Endpoint::from_path("/debug/pprof/"), Some(Endpoint::Index));
        assert_eq!(
            Endpoint::from_path("/debug/pprof/tasks"),
            Some(Endpoint::Tasks)
        );
        assert_eq!(Endpoint::from_path("/debug/pprof/heap"), None);
        assert_eq!(Endpoint::from_path("/metrics/"), None);
    }
}
