"""``python -m bench.profile [stage1|five] [--seconds N]``: where a completion request spends its time.

Drives the chosen workload through the Flask test client (the whole request
path: auth, routing, services, engine, SQL on PostgreSQL, JSON) and profiles
only the completion requests with pyinstrument; prints the call tree and the
number of SQL statements per completion.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import re
import time

from sqlalchemy import event

from app import create_app
from app.services.provisioning import demo
from app.stages import BY_KEY

from .__main__ import drop_schema, postgres_schema
from .http_load import PASSWORD, ROOT, deploy_minimal_flow, officer_for
from .lifecycle import make_platform


class _P:
    name = "剖析项目"
    investment_type = "ratification"


def main() -> None:
    from pyinstrument import Profiler

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("workload", choices=["stage1", "five"], nargs="?", default="five")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--cpu", action="store_true",
                        help="cProfile on process CPU time instead (not skewed by a busy machine)")
    parser.add_argument("--plain", action="store_true",
                        help="no profiler: the process CPU time and wall time of each completion, and its SQL")
    parser.add_argument("--sort", default="cumulative", help="pstats order with --cpu (cumulative, tottime)")
    parser.add_argument("--dump", help="with --cpu: also write the pstats file here")
    parser.add_argument("--endpoints", action="store_true",
                        help="CPU of every request of the lifecycle (filing, inbox, completion...) per completion")
    parser.add_argument("--request", choices=["complete", "inbox", "filing", "project"], default="complete",
                        help="which requests of the lifecycle to profile (the figures are per such request)")
    parser.add_argument("--freeze", action="store_true", help="gc.freeze() once the first lifecycle ran")
    parser.add_argument("--sql", action="store_true",
                        help="print the statements of the completions, each with how often it ran per completion")
    args = parser.parse_args()
    url, schema = postgres_schema()
    try:
        platform = make_platform(url)
        if args.workload == "five":
            deploy_minimal_flow(platform)
        app = create_app(platform.settings, platform=platform)
        client = app.test_client()
        tokens: dict[str, str] = {}

        from collections import Counter
        by_endpoint: Counter = Counter()

        def call(method, path, user, body=None, tally=True):
            if user not in tokens:
                answer = client.post("/api/v1/auth/token", json={"username": user, "password": PASSWORD})
                tokens[user] = answer.get_json()["token"]
            began = time.process_time()
            answer = client.open(f"/api/v1{path}", method=method, json=body,
                                 headers={"Authorization": f"Bearer {tokens[user]}"})
            kind = method + " " + re.sub(r"/[A-Z0-9][A-Z0-9-]{6,}|/\d+", "/<id>", path.split("?")[0])
            if tally:
                by_endpoint[kind] += time.process_time() - began
            return answer

        statements, last, recording = [0], [], []

        def count(conn, cursor, statement, *rest):
            statements[0] += 1
            if not args.sql or not recording:
                return
            import traceback
            here = [f"{f.filename.split(str(ROOT) + '/')[-1]}:{f.lineno} {f.name}" for f in traceback.extract_stack()
                    if f.filename.startswith((str(ROOT / 'app'), str(ROOT / 'engine')))]
            last.append(statement.split("\n")[0][:90] + "  <- " + " > ".join(here[-3:]))

        event.listen(platform.sessions.kw["bind"], "before_cursor_execute", count)
        commits = Counter()

        def committed(conn):
            commits["in all"] += 1
            if recording:
                commits["completions"] += 1
        event.listen(platform.sessions.kw["bind"], "commit", committed)
        from sqlalchemy.orm import Session as _Session
        flushes: list = []

        def flushed(session, context, instances):
            if recording and args.sql:
                import traceback
                here = [f"{f.filename.split(str(ROOT) + '/')[-1]}:{f.lineno} {f.name}"
                        for f in traceback.extract_stack()
                        if f.filename.startswith((str(ROOT / 'app'), str(ROOT / 'engine')))]
                flushes.append(" > ".join(here[-3:]) + f"  [{len(session.new)} new, {len(session.dirty)} dirty]")
        event.listen(_Session, "before_flush", flushed)
        if args.plain:
            class _Plain:
                cpu = 0.0

                def start(self):
                    self._began = time.process_time()

                def stop(self):
                    self.cpu += time.process_time() - self._began
            profiler = _Plain()
        elif args.cpu:
            import cProfile
            profiler = cProfile.Profile(time.process_time)
            profiler.stop = profiler.disable
            profiler.start = profiler.enable
        else:
            profiler = Profiler(interval=0.0005)
        import gc
        collections: Counter = Counter()
        gc_began = [0.0]

        def gc_timer(phase, info):
            if phase == "start":
                gc_began[0] = time.process_time()
            elif recording:
                collections[info["generation"]] += time.process_time() - gc_began[0]
                collections[f"n{info['generation']}"] += 1
        gc.callbacks.append(gc_timer)
        today = dt.date.today()
        completions, sql, busy = 0, 0, 0.0
        other = [0, 0]  # the profiled requests other than completions, their SQL statements

        def profiled(kind, method, path, user, body=None):
            if args.request != kind:
                return call(method, path, user, body)
            before = statements[0]
            recording.append(True)
            profiler.start()
            answer = call(method, path, user, body)
            profiler.stop()
            recording.clear()
            other[0] += 1
            other[1] += statements[0] - before
            return answer
        deadline = time.perf_counter() + args.seconds
        while time.perf_counter() < deadline:
            code = profiled("project", "POST", "/projects", "applicant1", {
                "name": "剖析项目", "division": "460100", "investment_type": "ratification"}).get_json()["code"]
            data = demo.stage_application(BY_KEY["initiation"], _P, today)
            path = f"/projects/{code}/stages/initiation/applications"
            filed = profiled("filing", "POST", path, "applicant1", {"data": data})
            for name in (filed.get_json().get("error") or {}).get("missing_materials") or ():  # upload, refile
                client.post(f"/api/v1/projects/{code}/materials", data={"name": name, "file": (
                    io.BytesIO(demo.DEMO_PDF), "m.pdf")}, headers={"Authorization": f"Bearer {tokens['applicant1']}"})
            if filed.status_code == 422:
                profiled("filing", "POST", path, "applicant1", {"data": data})
            while tasks := profiled("inbox", "GET", f"/tasks?project={code}", "admin").get_json()["tasks"]:
                for task in tasks:
                    body = {"data": demo.task_answer(task["form"], task["id"], today)}
                    user = officer_for(task["lane"])
                    call("GET", "/tasks?page_size=1", user, tally=False)  # the token is verified outside the profile
                    before, start = statements[0], time.perf_counter()
                    if args.request == "complete":
                        recording.append(True)
                        profiler.start()
                    answer = call("POST", f"/tasks/{task['id']}/complete", user, body)
                    if args.request == "complete":
                        profiler.stop()
                        recording.clear()
                    busy += time.perf_counter() - start
                    sql += statements[0] - before
                    assert answer.status_code == 200, answer.get_json()
                    completions += 1
            if args.freeze and not collections["frozen"]:
                gc.collect()
                gc.freeze()
                collections["frozen"] = 1
        print(f"{completions} completions, {busy / completions * 1000:.1f} ms each in-process, "
              f"{sql / completions:.1f} SQL statements and {commits['completions'] / completions:.2f} commits each; "
              f"{commits['in all'] / completions:.2f} commits per completion over the whole lifecycle")
        if args.plain:
            print(f"CPU {profiler.cpu / completions * 1000:.1f} ms per completion in the web process")
        if args.request != "complete":
            print(f"{other[0]} {args.request} requests profiled (not the completions), "
                  f"{other[1] / max(other[0], 1):.1f} SQL statements each; the figures below are per such request")
            completions = max(other[0], 1)
        print("garbage collection during completions, per completion: " + ", ".join(
            f"gen{g} {collections[f'n{g}'] / completions:.2f} runs {collections[g] / completions * 1000:.2f} ms"
            for g in range(3)) + f"; {len(gc.get_objects())} objects tracked, {gc.get_freeze_count()} frozen")
        if args.endpoints:
            print("CPU per completion, by request kind (the whole lifecycle):")
            for kind, seconds in by_endpoint.most_common():
                print(f"  {seconds / completions * 1000:7.2f} ms  {kind}")
            print(f"  {sum(by_endpoint.values()) / completions * 1000:7.2f} ms  in all")
        if args.sql:
            print(f"{len(flushes) / completions:.2f} flushes per completion:")
            for line, n in Counter(flushes).most_common(12):
                print(f"  {n / completions:5.2f}  {line}")
            for line, n in Counter(last).most_common():
                print(f"{n / completions:5.2f}  {line}")
        if args.plain:
            pass
        elif args.cpu:
            import pstats
            stats = pstats.Stats(profiler)
            if args.dump:
                stats.dump_stats(args.dump)
            _by_package(stats, completions)
            stats.sort_stats(args.sort).print_stats(45)
        else:
            print(profiler.output_text(unicode=True, color=False, show_all=False))
    finally:
        if schema:
            drop_schema(schema)


def _by_package(stats, completions: int) -> None:
    """Own CPU time per completion, summed by package (ours by top-level folder)."""
    from collections import Counter
    total = Counter()
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():
        if "site-packages/" in filename:
            name = filename.split("site-packages/")[1].split("/")[0].removesuffix(".py")
        elif filename.startswith(str(ROOT)):
            name = "/".join(filename[len(str(ROOT)) + 1:].split("/")[:2])
        elif filename.startswith("<") or filename == "~":
            name = "builtins"
        else:
            name = "stdlib"
        total[name] += tottime
    print("own CPU per completion, by package:")
    for name, seconds in total.most_common(16):
        print(f"  {seconds / completions * 1000:7.2f} ms  {name}")


if __name__ == "__main__":
    main()
