# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When a service this run wrote has converged, from Engine API data seen over several polls."""

from __future__ import annotations

import time

from ansible_collections.crane.swarm.plugins.module_utils.stacks import apply as stack_apply

T0 = 1_800_000_000.0  # the time of the write, on this host's clock


def stamp(seconds):
    """An Engine API timestamp (RFC 3339, nanoseconds, UTC) of epoch seconds."""
    whole = int(seconds)
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(whole)) + '.%09dZ' % round((seconds - whole) * 1e9)


def task(task_id, state, at, slot=1, desired='running', err=None, service='svc', node='n1', exit_code=None):
    status = {'State': state, 'Timestamp': stamp(at), 'Message': state}
    if err:
        status['Err'] = err
    if exit_code is not None:
        status['ContainerStatus'] = {'ExitCode': exit_code}
    return {'ID': task_id, 'ServiceID': service, 'Slot': slot, 'NodeID': node, 'DesiredState': desired,
            'Status': status}


def service(replicas=1, running=None, update_state=None, mode=None, **spec):
    body = {'ID': 'svc', 'Spec': dict({'Name': 'stack_svc', 'Mode': mode or {'Replicated': {'Replicas': replicas}}},
                                      **spec)}
    if running is not None:
        body['ServiceStatus'] = {'RunningTasks': running, 'DesiredTasks': replicas}
    if update_state:
        body['UpdateStatus'] = {'State': update_state, 'Message': 'update %s' % update_state}
    return body


class Watch:
    """What the module keeps across polls, and the verdict at each poll."""

    def __init__(self, existed_before=(), ended_before=()):
        self.bounds, self.exits = {}, {}
        self.previous = None
        self.existed_before, self.ended_before = set(existed_before), set(ended_before)

    def poll(self, at, tasks, live=None, awaiting=False):
        stack_apply.note_running(self.bounds, tasks, at, self.previous, {'svc': T0}, self.existed_before)
        stack_apply.note_exits(self.exits, tasks, self.ended_before)
        self.previous = at - 0.01  # the request was sent just before its answer came
        return stack_apply.service_verdict(live or service(), tasks, list(self.exits.values()), self.bounds, at,
                                           awaiting)


def test_engine_time_reads_nanoseconds_and_zones():
    assert stack_apply.engine_time('2027-01-15T08:00:00.500000000Z') == T0 + 0.5
    assert stack_apply.engine_time('2027-01-15T09:00:00+01:00') == T0
    assert stack_apply.engine_time(stamp(T0 + 1.25)) == T0 + 1.25
    assert stack_apply.engine_time('') is None and stack_apply.engine_time(None) is None


def test_the_stability_window_is_the_monitor_period_or_five_seconds():
    assert stack_apply.stability_window({'UpdateConfig': {'Monitor': 10 * 10 ** 9}}) == 10
    assert stack_apply.stability_window({'UpdateConfig': {'Parallelism': 1}}) == 5
    assert stack_apply.stability_window({}) == 5


def test_a_task_converges_only_after_running_for_the_window():
    watch = Watch()
    assert watch.poll(T0 + 1, [task('t1', 'starting', T0 + 0.5)])[0] == 'pending'
    assert watch.poll(T0 + 2, [task('t1', 'running', T0 + 1.5)])[0] == 'pending'
    assert watch.poll(T0 + 6, [task('t1', 'running', T0 + 1.5)])[0] == 'pending'
    state, message, errors = watch.poll(T0 + 6.6, [task('t1', 'running', T0 + 1.5)])
    assert (state, errors) == ('converged', []) and message == '1 of 1 tasks have run for 5 s or more'


def test_a_skewed_node_cannot_make_a_new_task_look_old():
    # Its clock is a minute behind: the timestamp says the task has run for 61 s.
    watch = Watch()
    assert watch.poll(T0 + 1, [task('t1', 'starting', T0 - 60)])[0] == 'pending'
    assert watch.poll(T0 + 2, [task('t1', 'running', T0 - 59)])[0] == 'pending'
    # Bounded by the poll before the one that first saw it running: 5 s after T0 + 1 at the earliest.
    assert watch.poll(T0 + 5.9, [task('t1', 'running', T0 - 59)])[0] == 'pending'
    assert watch.poll(T0 + 6.1, [task('t1', 'running', T0 - 59)])[0] == 'converged'
    # Seen running at the first poll, it began after this run's write.
    first = Watch()
    assert first.poll(T0 + 1, [task('t1', 'running', T0 - 59)])[0] == 'pending'
    assert first.poll(T0 + 5.1, [task('t1', 'running', T0 - 59)])[0] == 'converged'


def test_a_task_running_before_the_update_counts_from_its_timestamp():
    # A replicas change: the old task keeps running, the new one must prove itself.
    watch = Watch(existed_before=['old'])
    tasks = [task('old', 'running', T0 - 3600, slot=1), task('new', 'running', T0 + 0.5, slot=2)]
    assert watch.poll(T0 + 1, tasks, live=service(replicas=2))[0] == 'pending'
    state, message, dummy = watch.poll(T0 + 5.6, tasks, live=service(replicas=2))
    assert state == 'converged', message


def test_a_crash_loop_is_seen_whatever_history_the_swarm_keeps():
    # task_history_retention_limit 2: each poll shows the last failed task and its replacement only.
    watch = Watch()
    polls = [
        [task('a', 'failed', T0 + 0.3, desired='shutdown', err='task: non-zero exit (3)'), task('b', 'ready', T0 + 0.5, desired='ready')],
        [task('b', 'running', T0 + 5.3)],
        [task('b', 'failed', T0 + 5.4, desired='shutdown', err='task: non-zero exit (3)'), task('c', 'ready', T0 + 5.6, desired='ready')],
        [task('c', 'failed', T0 + 10.4, desired='shutdown', err='task: non-zero exit (3)'), task('d', 'ready', T0 + 10.6, desired='ready')],
    ]
    verdicts = [watch.poll(T0 + 1 + 4 * index, tasks) for index, tasks in enumerate(polls)]
    assert [state for state, dummy, dummy2 in verdicts] == ['pending', 'pending', 'pending', 'crash_loop']
    state, message, errors = verdicts[-1]
    assert message == 'its tasks keep failing: 3 ended since this run wrote the service, 3 in one slot'
    assert errors == ['task: non-zero exit (3)']


def test_crash_loops_are_counted_per_slot_and_per_node():
    crashes = [task('t%d' % n, 'failed', T0 + n, slot=n, err='boom') for n in (1, 2, 3)]
    state, dummy, dummy2 = Watch().poll(T0 + 4, crashes, live=service(replicas=3))
    assert state == 'pending'  # three slots failed once each: a start-up hiccup so far
    on_one_node = [task('g%d' % n, 'failed', T0 + n, slot=None, node='n1', err='boom') for n in (1, 2, 3)]
    assert Watch().poll(T0 + 4, on_one_node, live=service(mode={'Global': {}}))[0] == 'crash_loop'


def test_a_global_service_with_no_task_or_all_rejected_is_never_converged():
    """The engine counts a global service's tasks desired running only: with every task rejected (an image
    the nodes cannot pull) and its next one waiting to restart (desired ready) or not made yet, DesiredTasks is 0."""
    live = service(mode={'Global': {}})
    live['ServiceStatus'] = {'RunningTasks': 0, 'DesiredTasks': 0}
    pull = 'No such image: registry.example:5443/team/app:1'
    watch = Watch()
    waiting = [task('r%d' % node, 'rejected', T0 + 1, desired='ready', err=pull, node='n%d' % node) for node in (1, 2)]
    state, message, errors = watch.poll(T0 + 2, waiting, live)
    assert (state, message, errors) == ('pending', '0 of 2 tasks have run for 5 s', [pull])
    # Between a rejection and its replacement no task is desired at all.
    assert watch.poll(T0 + 3, [dict(task, DesiredState='shutdown') for task in waiting], live)[:2] == (
        'pending', '0 of 2 tasks have run for 5 s')
    assert Watch().poll(T0 + 1, [], live)[:2] == (
        'pending', 'no task of this global service yet (does a node meet its placement constraints?)')
    again = [task('s%d' % n, 'rejected', T0 + 1 + n, desired='shutdown', err=pull, node='n1') for n in (1, 2)]
    assert watch.poll(T0 + 4, waiting + again, live)[0] == 'crash_loop'


def test_the_restart_policy_says_how_many_exits_make_a_crash_loop():
    once = [task('t1', 'failed', T0 + 1, err='boom')]
    never = service(TaskTemplate={'RestartPolicy': {'Condition': 'none'}})
    assert Watch().poll(T0 + 2, once, live=never)[0] == 'crash_loop'
    twice = [task('t1', 'failed', T0 + 1, err='boom'), task('t2', 'failed', T0 + 2, err='boom')]
    one_retry = service(TaskTemplate={'RestartPolicy': {'Condition': 'on-failure', 'MaxAttempts': 1}})
    assert Watch().poll(T0 + 3, twice, live=one_retry)[0] == 'crash_loop'
    assert Watch().poll(T0 + 3, twice)[0] == 'pending'


def test_exits_from_before_the_update_are_not_this_runs():
    old = [task('o%d' % n, 'failed', T0 - 100 + n, err='old trouble') for n in (1, 2, 3)]
    watch = Watch(existed_before=['o1', 'o2', 'o3'], ended_before=['o1', 'o2', 'o3'])
    state, dummy, errors = watch.poll(T0 + 1, old + [task('n1', 'running', T0 + 0.5)])
    assert state == 'pending' and errors == []


def test_completed_tasks_of_a_service_count_as_exits():
    done = [task('t%d' % n, 'complete', T0 + n, exit_code=0) for n in (1, 2, 3)]
    state, dummy, errors = Watch().poll(T0 + 4, done)
    assert state == 'crash_loop' and errors == ['task completed (exit code 0)']


def test_a_pending_task_says_why():
    stuck = task('t1', 'pending', T0 + 0.1, err='no suitable node (scheduling constraints not satisfied on 3 nodes)')
    state, message, errors = Watch().poll(T0 + 1, [stuck])
    assert state == 'pending'
    assert message == ('0 of 1 tasks have run for 5 s '
                       '(pending: no suitable node (scheduling constraints not satisfied on 3 nodes))')
    assert errors == ['no suitable node (scheduling constraints not satisfied on 3 nodes)']


def test_update_states_decide_first():
    rejected = task('t1', 'rejected', T0 + 1, err='No such image: app:2')
    rolled = Watch().poll(T0 + 2, [rejected], live=service(update_state='rollback_completed'))
    assert rolled == ('rolled_back', 'rollback_completed: update rollback_completed', ['No such image: app:2'])
    assert Watch().poll(T0 + 2, [], live=service(update_state='paused'))[0] == 'paused'
    assert Watch().poll(T0 + 2, [], live=service(update_state='rollback_paused'))[0] == 'rolled_back'
    updating = Watch().poll(T0 + 2, [rejected], live=service(update_state='updating'))
    assert updating[:2] == ('pending', 'update updating: update updating')


def test_a_rollout_not_yet_begun_is_pending():
    # Right after an update the engine has cleared UpdateStatus and the old task still runs.
    watch = Watch(existed_before=['old'])
    old = [task('old', 'running', T0 - 3600)]
    assert watch.poll(T0 + 1, old, awaiting=True) == ('pending', 'its rolling update has not begun yet', [])
    assert watch.poll(T0 + 1, old, live=service(update_state='completed'), awaiting=True)[0] == 'converged'
    assert watch.poll(T0 + 1, old)[0] == 'converged'


def test_jobs_are_not_followed():
    job = service(mode={'ReplicatedJob': {'MaxConcurrent': 1, 'TotalCompletions': 1}})
    assert Watch().poll(T0 + 1, [], live=job)[0] == 'converged'


def test_a_service_this_run_left_alone_is_judged_from_its_counts():
    assert stack_apply.settled_state(service(replicas=2, running=2)) is None
    assert stack_apply.settled_state(service(replicas=2, running=1)) == ('pending', '1 of 2 tasks running')
    assert stack_apply.settled_state(service(running=1, update_state='rollback_completed')) is None
    assert stack_apply.settled_state(service(running=1, update_state='paused'))[0] == 'paused'
    assert stack_apply.settled_state(service(running=1, update_state='rollback_paused'))[0] == 'rolled_back'
    assert stack_apply.settled_state(service(running=1, update_state='updating'))[0] == 'pending'


def test_an_earlier_failed_update_is_named():
    assert stack_apply.earlier_update_failure(service(update_state='rollback_completed')) == (
        'rollback_completed: update rollback_completed')
    assert stack_apply.earlier_update_failure(service(update_state='completed')) is None
    assert stack_apply.earlier_update_failure(service()) is None


def test_task_errors_newest_first_distinct_and_bounded():
    tasks = [task('t%d' % i, 'failed', T0 + i, err='error %d' % (i % 4)) for i in range(8)]
    tasks.append(task('t9', 'running', T0 + 9))
    assert stack_apply.task_errors(tasks) == ['error 3', 'error 2', 'error 1']


def named(name, **kwargs):
    body = service(**kwargs)
    body['Spec']['Name'] = name
    return body


def test_the_wait_waits_only_for_unchanged_services_merely_pending():
    services = [
        named('stack_running', replicas=2, running=2),
        named('stack_rescheduled', replicas=2, running=1),  # a task moving off a node whose engine restarted
        named('stack_updating', replicas=2, running=2, update_state='updating'),
        named('stack_updated', replicas=2, running=2, update_state='completed'),
        named('stack_paused', replicas=2, running=1, update_state='paused'),
        named('stack_rolled_back', replicas=2, running=1, update_state='rollback_completed'),
        named('stack_rollback_paused', replicas=2, running=0, update_state='rollback_paused'),
        named('stack_job', mode={'ReplicatedJob': {'MaxConcurrent': 1}}),
    ]
    assert stack_apply.awaited_unchanged(services) == ['stack_rescheduled', 'stack_updating']
    # Running all their tasks, they are not waited for, however recently the tasks started: no stability window.
    assert stack_apply.awaited_unchanged([named('a', running=1), named('b', replicas=3, running=3)]) == []
    assert stack_apply.awaited_unchanged([]) == []


def test_the_wait_is_over_when_the_written_services_are_done_and_no_unchanged_one_is_awaited():
    converged = ('converged', '1 of 1 tasks have run for 5 s or more', [])
    pending = ('pending', '0 of 1 tasks have run for 5 s', [])
    crashing = ('crash_loop', 'its tasks keep failing', ['boom'])
    # An unchanged stack: nothing written, nothing awaited; the first poll ends the wait.
    assert stack_apply.wait_is_over({}, [], timed_out=False)
    assert stack_apply.wait_is_over({'stack_a': converged}, [], timed_out=False)
    # An unchanged service still moving keeps the wait going, with or without written services.
    assert not stack_apply.wait_is_over({}, ['stack_b'], timed_out=False)
    assert not stack_apply.wait_is_over({'stack_a': converged}, ['stack_b'], timed_out=False)
    assert not stack_apply.wait_is_over({'stack_a': pending}, [], timed_out=False)
    # ... until the deadline.
    assert stack_apply.wait_is_over({}, ['stack_b'], timed_out=True)
    assert stack_apply.wait_is_over({'stack_a': pending}, ['stack_b'], timed_out=True)
    # A written service that failed ends it at once, whatever else is still moving.
    assert stack_apply.wait_is_over({'stack_a': crashing, 'stack_c': pending}, ['stack_b'], timed_out=False)
    assert stack_apply.wait_is_over({'stack_a': ('paused', 'paused: x', [])}, ['stack_b'], timed_out=False)


def test_an_unchanged_service_rescheduled_during_the_wait_is_awaited_then_settles():
    # Polls of one service this run left alone while the swarm moves its task off a restarted node.
    polls = [named('stack_s', replicas=1, running=0), named('stack_s', replicas=1, running=0),
             named('stack_s', replicas=1, running=1)]
    over = [stack_apply.wait_is_over({}, stack_apply.awaited_unchanged([live]), timed_out=False) for live in polls]
    assert over == [False, False, True]
    assert stack_apply.settled_state(polls[-1]) is None  # and so it is not reported
