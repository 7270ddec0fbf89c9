# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crane.swarm.swarm_stack with compose files on a real three-node swarm: merged files, .env and env,
env_file, a secret file, a relative bind mount; no-op rerun, check mode, diff, a bad file."""

from __future__ import annotations

import os

import pytest

from test_swarm_stack import deploy, inspect, remove

BASE = '''version: "3.8"
x-common: &common
  stop_grace_period: 2s
services:
  web:
    <<: *common
    image: "busybox:${TAG:-latest}"
    command: sleep 3600
    env_file: app.env
    environment:
      LEVEL: ${LEVEL:-info}
      PASSWORD_FILE: /run/secrets/db_password
    volumes:
      - ./data:/data:ro
    secrets: [db_password]
    deploy:
      replicas: 1
      labels: [tier=front]
secrets:
  db_password:
    file: ./db_password.txt
'''

PROD = '''version: "3.8"
services:
  web:
    environment:
      LEVEL: warn
    deploy:
      replicas: 2
  worker:
    image: busybox:latest
    command: ["sleep", "3600"]
    build: .
'''


@pytest.fixture
def compose_files(tmp_path, sandbox):
    (tmp_path / 'docker-stack.yml').write_text(BASE)
    (tmp_path / 'prod.yml').write_text(PROD)
    (tmp_path / '.env').write_text('TAG="latest"\nLEVEL=debug\n')
    (tmp_path / 'app.env').write_text('# app settings\nREGION=eu\n')
    (tmp_path / 'db_password.txt').write_text('s3cret-compose-password')
    (tmp_path / 'data').mkdir()
    # The bind source is the folder of the compose files on the controller, absolute: it must exist on
    # the nodes too (the sandbox hosts are not this machine).
    for host in sandbox.hosts:
        sandbox.exec(host, 'mkdir', '-p', str(tmp_path / 'data'))
    return [str(tmp_path / 'docker-stack.yml'), str(tmp_path / 'prod.yml')]


@pytest.fixture
def compose_swarm(shared_swarm3, run_playbook):
    yield shared_swarm3
    # state absent waits until the networks are gone (docker stack rm returns before), so the next test
    # does not meet a network being removed.
    run_playbook([remove('cmp')])


def test_compose_files_deploy_merged_and_rerun_changes_nothing(sandbox, compose_swarm, run_playbook, compose_files):
    play = deploy('cmp', compose=compose_files, env={'TAG': 'latest'})
    run = run_playbook([play], diff=True)
    result = run.result('deploy', 'node1')
    assert result['changed'] and sorted(result['services']['created']) == ['cmp_web', 'cmp_worker']
    assert any('build' in warning for warning in result.get('warnings', [])), result.get('warnings')
    web = inspect(sandbox, 'cmp_web')['Spec']
    container = web['TaskTemplate']['ContainerSpec']
    assert container['Image'] == 'busybox:latest' and container['Args'] == ['sleep', '3600']
    # env_file first, environment over it; the later file's LEVEL over the .env default.
    assert container['Env'] == ['LEVEL=warn', 'PASSWORD_FILE=/run/secrets/db_password', 'REGION=eu']
    assert container['StopGracePeriod'] == 2 * 10 ** 9
    assert container['Mounts'] == [{'Type': 'bind', 'Source': os.path.join(os.path.dirname(compose_files[0]), 'data'),
                                    'Target': '/data', 'ReadOnly': True}]
    assert [secret['File']['Name'] for secret in container['Secrets']] == ['db_password']
    assert web['Mode'] == {'Replicated': {'Replicas': 2}} and web['Labels']['tier'] == 'front'
    network = sandbox.docker_json('node1', 'network', 'inspect', 'cmp_default')[0]
    assert network['Labels'] == {'com.docker.stack.namespace': 'cmp'}
    assert 's3cret-compose-password' not in run.output

    again = run_playbook([play], check=True, diff=True).result('deploy', 'node1')
    assert again['changed'] is False
    rerun = run_playbook([play]).result('deploy', 'node1')
    assert rerun['changed'] is False and not rerun['services']['updated'] and not rerun['services']['created']


def test_env_changes_only_what_it_substitutes_and_check_mode_writes_nothing(
        sandbox, compose_swarm, run_playbook, compose_files):
    run_playbook([deploy('cmp', compose=compose_files[:1])])
    before = inspect(sandbox, 'cmp_web')['Version']['Index']
    checked = run_playbook([deploy('cmp', compose=compose_files[:1], env={'LEVEL': 'error'})], check=True, diff=True)
    result = checked.result('deploy', 'node1')
    assert result['changed'] and sorted(result['services']['updated']) == ['cmp_web']
    assert inspect(sandbox, 'cmp_web')['Version']['Index'] == before
    applied = run_playbook([deploy('cmp', compose=compose_files[:1], env={'LEVEL': 'error'})]).result('deploy', 'node1')
    assert applied['changed'] and sorted(applied['services']['updated']) == ['cmp_web']
    assert 'LEVEL=error' in inspect(sandbox, 'cmp_web')['Spec']['TaskTemplate']['ContainerSpec']['Env']
    shown = applied['invocation']['module_args']
    assert shown['env'] == {'LEVEL': '<hidden>'} and shown['compose'] == compose_files[:1]


def test_a_bad_compose_file_fails_naming_the_path_and_deploys_nothing(sandbox, compose_swarm, run_playbook, tmp_path):
    good = tmp_path / 'good.yml'
    good.write_text('services:\n  a:\n    image: busybox:latest\n')
    bad = tmp_path / 'bad.yml'
    bad.write_text('services:\n  b:\n    image: busybox:latest\n    deploy:\n      replicas: many\n')
    run = run_playbook([deploy('cmp', compose=[str(good), str(bad)])], expect_failure=True)
    result = run.result('deploy', 'node1')
    assert 'services.b.deploy.replicas: expected an integer' in result['msg'], result['msg']
    assert 'nothing was deployed' in result['msg']
    assert sandbox.docker('node1', 'service', 'ls', '-q', '--filter', 'label=com.docker.stack.namespace=cmp').stdout == ''
