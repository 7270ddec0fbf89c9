# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmarks' pure parts: the counting proxy's HTTP parser, request kinds, the generated stacks."""

from __future__ import annotations

import os
import sys

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'bench')
sys.path.insert(0, BENCH)

import cluster_formation  # noqa: E402
import converge  # noqa: E402
import count_proxy  # noqa: E402
import stack_deploy  # noqa: E402
from common import median_and_range, parse_int_list  # noqa: E402


def test_keep_alive_requests_with_bodies_count_one_each():
    parser = count_proxy.RequestParser()
    stream = (b'GET /v1.41/services?filters=%7B%7D HTTP/1.1\r\nHost: docker\r\n\r\n'
              b'POST /v1.41/services/create HTTP/1.1\r\nContent-Length: 11\r\n\r\n{"Name":""}'
              b'DELETE /networks/abc HTTP/1.1\r\n\r\n')
    assert parser.feed(stream) == [('GET', '/services'), ('POST', '/services/create'), ('DELETE', '/networks/abc')]


def test_requests_split_across_reads_and_chunked_bodies():
    parser = count_proxy.RequestParser()
    stream = (b'POST /v1.41/services/x/update?version=3 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n'
              b'5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n'
              b'HEAD /_ping HTTP/1.1\r\n\r\n')
    seen = []
    for index in range(len(stream)):  # one byte at a time: the worst split there is
        seen += parser.feed(stream[index:index + 1])
    assert seen == [('POST', '/services/x/update'), ('HEAD', '/_ping')]


def test_a_body_that_looks_like_a_request_is_not_counted():
    parser = count_proxy.RequestParser()
    body = b'GET /fake HTTP/1.1\r\n\r\n'
    stream = b'POST /configs/create HTTP/1.1\r\nContent-Length: %d\r\n\r\n' % len(body) + body
    assert parser.feed(stream) == [('POST', '/configs/create')]


def test_an_upgraded_connection_is_relayed_without_parsing():
    parser = count_proxy.RequestParser()
    assert parser.feed(b'POST /exec/1/start HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n') == [
        ('POST', '/exec/1/start')]
    assert parser.feed(b'GET /not-a-request HTTP/1.1\r\n\r\n') == []


def test_request_kinds_fold_object_ids():
    assert stack_deploy.request_kind('POST', '/services/k3j2h4g5f6d7s8a9q0w1e2r3/update') == 'POST /services/{id}/update'
    assert stack_deploy.request_kind('POST', '/services/create') == 'POST /services/create'
    assert stack_deploy.request_kind('GET', '/networks/bench_backend') == 'GET /networks/{id}'
    total, kinds = stack_deploy.request_summary([('GET', '/services'), ('POST', '/services/a/update'),
                                                 ('POST', '/services/b/update')])
    assert total == 3 and kinds == {'GET /services': 1, 'POST /services/{id}/update': 2}


def test_the_bundle_and_the_compose_file_describe_the_same_services():
    bundle = stack_deploy.bundle_for(3, revision_of='svc002')
    compose = stack_deploy.compose_for(3, revision_of='svc002')
    assert sorted(bundle['Services']) == sorted(compose['services']) == ['svc001', 'svc002', 'svc003']
    assert compose['services']['svc002']['environment']['APP_REVISION'] == '2'
    assert 'APP_REVISION=1' in bundle['Services']['svc001']['Env']
    assert compose['services']['svc001']['command'] == bundle['Services']['svc001']['Args']
    assert compose['services']['svc001']['deploy']['placement']['constraints'] == ['node.role == worker']


def test_the_generated_bundle_is_valid():
    sys.path.insert(0, os.path.join(os.path.dirname(BENCH), 'build', 'collections'))
    bundle_module = pytest.importorskip('ansible_collections.crane.swarm.plugins.plugin_utils.bundle.check')
    assert bundle_module.check_bundle(stack_deploy.bundle_for(5)) == []


def test_sizes_and_statistics():
    assert parse_int_list('10,50, 200') == [10, 50, 200]
    with pytest.raises(ValueError):
        parse_int_list('0')
    assert median_and_range([3.0, 1.0, 2.0]) == (2.0, 1.0, 3.0)
    assert median_and_range([]) is None


PROFILED_RUN = """PLAY RECAP *********************************************************************
node1                      : ok=36   changed=0    unreachable=0    failed=0    skipped=24   rescued=0    ignored=0
node2                      : ok=29   changed=2    unreachable=0    failed=0    skipped=21   rescued=0    ignored=0

Saturday 05 December 2026  14:03:10 +0000 (0:00:00.101)       0:00:16.020 *****
===============================================================================
crane.swarm.stacks : Copy the image archives ---------------------------- 2.22s
crane.swarm.firewall : Validating arguments against arg spec 'main' - Open the Docker Swarm ports --- 0.16s
Read the swarm's nodes -------------------------------------------------- 0.35s
"""


def test_converge_reads_the_profile_and_the_recap():
    tasks, changed = converge.parse_run(PROFILED_RUN)
    assert changed == 2
    assert list(tasks.items()) == [
        ('crane.swarm.stacks : Copy the image archives', 2.22),
        ("crane.swarm.firewall : Validating arguments against arg spec 'main' - Open the Docker Swarm ports", 0.16),
        ("Read the swarm's nodes", 0.35)]


def test_converge_model_is_a_least_squares_line():
    assert converge.fit([(3, 1.0), (5, 2.0), (7, 3.0)]) == pytest.approx((-0.5, 0.5))
    assert converge.fit([(3, 2.0), (5, 2.0), (7, 2.0)]) == pytest.approx((2.0, 0.0))
    assert converge.fit([(3, 4.0)]) == (4.0, 0.0)  # one size: no slope to fit


def test_a_task_wall_spans_its_hosts_and_skips_results_without_a_start():
    entries = [
        dict(task='join', task_id='t1', host='node2', seconds=2.0, ended=12.0),  # one host after the other
        dict(task='join', task_id='t1', host='node3', seconds=1.5, ended=14.0),
        dict(task='labels', task_id='t2', host='node1', seconds=None, ended=15.0),
        dict(task='labels', task_id='t3', host='node1', seconds=0.25, ended=16.0),  # same name, included again
        dict(task='labels', task_id='t4', host='node1', seconds=0.5, ended=17.0),
    ]
    walls = cluster_formation.task_walls(entries)
    assert list(walls) == ['join', 'labels']
    assert walls['join'] == pytest.approx(4.0) and walls['labels'] == pytest.approx(0.75)


def test_the_profile_table_puts_the_largest_task_first_and_drops_the_negligible():
    lines = cluster_formation.profile_table({
        3: [dict(init=1.0, wait=3.0, tiny=0.01), dict(init=2.0, wait=5.0)],
        5: [dict(init=1.5, wait=6.0, join=2.0)],
    })
    rows = [line for line in lines if line.startswith('| ') and not line.startswith(('| task', '| ---'))]
    assert rows == ['| wait | 4.00 | 6.00 |', '| join | 0.00 | 2.00 |', '| init | 1.50 | 1.50 |']
