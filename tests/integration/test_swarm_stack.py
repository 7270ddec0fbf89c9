# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crane.swarm.swarm_stack and swarm_stack_info on a real three-node swarm."""

from __future__ import annotations

import base64
import json
import os
import time
from urllib.parse import quote

import pytest
import yaml

from harness import bundle, deploy, inspect, service, time_of

HERE = os.path.dirname(os.path.abspath(__file__))
BUNDLES = os.path.join(os.path.dirname(HERE), 'unit', 'bundles')
PLAIN_DAB = os.path.join(BUNDLES, 'good', 'plain-1.12.dab')


def remove(stack, task='remove'):
    return {'hosts': 'node1', 'gather_facts': False,
            'tasks': [{'name': task, 'crane.swarm.swarm_stack': {'name': stack, 'state': 'absent'}}]}


def versions(sandbox, *names):
    return dict((name, inspect(sandbox, name)['Version']['Index']) for name in names)


def stack_services(sandbox, stack):
    out = sandbox.docker('node1', 'stack', 'services', stack, '--format', '{{.Name}} {{.Replicas}}').stdout
    return dict(line.split() for line in out.splitlines())


def test_plain_dab_deploys_with_docker_1_12_meaning(sandbox, stack_swarm, run_playbook):
    run = run_playbook([deploy('plain', src=PLAIN_DAB)], diff=True)
    assert sorted(run.result('deploy', 'node1')['services']['created']) == ['plain_web', 'plain_worker']
    web = inspect(sandbox, 'plain_web')
    spec = web['Spec']
    container = spec['TaskTemplate']['ContainerSpec']
    assert spec['Labels'] == {'com.docker.stack.namespace': 'plain', 'tier': 'front'}
    assert container['Labels'] == {'com.docker.stack.namespace': 'plain'}
    assert container['Command'] == ['httpd'] and container['Args'] == ['-f', '-p', '8000', '-h', '/tmp']
    assert container['Dir'] == '/tmp' and container['User'] == 'nobody'
    assert container['Env'] == ['GREETING=hello', 'COLOUR=blue']
    network = sandbox.docker_json('node1', 'network', 'inspect', 'plain_front')[0]
    assert network['Driver'] == 'overlay' and network['Labels'] == {'com.docker.stack.namespace': 'plain'}
    assert spec['TaskTemplate']['Networks'] == [{'Target': network['Id'], 'Aliases': ['web']}]
    published = web['Endpoint']['Ports'][0]
    assert published['TargetPort'] == 8000 and published['PublishedPort'] >= 30000  # chosen by the swarm
    assert stack_services(sandbox, 'plain') == {'plain_web': '1/1', 'plain_worker': '1/1'}

    before = versions(sandbox, 'plain_web', 'plain_worker')
    again = run_playbook([deploy('plain', src=PLAIN_DAB)])
    assert again.changed == 0
    assert versions(sandbox, 'plain_web', 'plain_worker') == before  # no update call was issued


def test_one_changed_service_is_the_only_one_updated(sandbox, stack_swarm, run_playbook):
    first = bundle(a=service(Env=['X=1']), b=service(Env=['Y=1']))
    run_playbook([deploy('shop', definition=first)])
    before = versions(sandbox, 'shop_a', 'shop_b')
    second = bundle(a=service(Env=['X=2']), b=service(Env=['Y=1']))
    checked = run_playbook([deploy('shop', definition=second)], check=True, diff=True)
    assert checked.changed == 1
    assert 'X=2' in checked.output and versions(sandbox, 'shop_a', 'shop_b') == before
    run = run_playbook([deploy('shop', definition=second)], diff=True)
    result = run.result('deploy', 'node1')
    assert list(result['services']['updated']) == ['shop_a']
    assert result['services']['unchanged'] == ['shop_b']
    after = versions(sandbox, 'shop_a', 'shop_b')
    assert after['shop_b'] == before['shop_b'] and after['shop_a'] > before['shop_a']
    assert inspect(sandbox, 'shop_a')['Spec']['TaskTemplate']['ContainerSpec']['Env'] == ['X=2']


def test_check_mode_leaves_the_cluster_untouched(sandbox, stack_swarm, run_playbook):
    definition = {'Version': '0.1', 'Networks': {'net': {}}, 'Secrets': {'s': {'Content': 'x'}},
                  'Services': {'a': service(Networks=['net'], Secrets=['s'])}}
    run = run_playbook([deploy('ghost', definition=definition)], check=True)
    result = run.result('deploy', 'node1')
    assert result['changed'] and result['services']['created'] == ['ghost_a']
    assert result.get('converged') is None, result  # nothing was observed in check mode
    assert sandbox.docker('node1', 'service', 'ls', '-q').stdout.strip() == ''
    assert 'ghost_net' not in sandbox.docker('node1', 'network', 'ls').stdout
    assert sandbox.docker('node1', 'secret', 'ls', '-q').stdout.strip() == ''


def test_rolling_update_proceeds_in_waves(sandbox, stack_swarm, run_playbook):
    update = {'Parallelism': 2, 'Delay': '5s', 'Monitor': '1s', 'Order': 'stop-first'}
    run_playbook([deploy('roll', definition=bundle(app=service(Replicas=6, Env=['V=1'], UpdateConfig=update)))])
    run_playbook([deploy('roll', definition=bundle(app=service(Replicas=6, Env=['V=2'], UpdateConfig=update)))])
    tasks = sandbox.api('node1', '/tasks?filters=' + quote(json.dumps({'service': ['roll_app']})))
    new = sorted(task['CreatedAt'] for task in tasks
                 if 'V=2' in task['Spec']['ContainerSpec'].get('Env', []))
    assert len(new) == 6
    starts = [time_of(stamp) for stamp in new]
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:])]
    waves = 1 + sum(1 for gap in gaps if gap > 4)  # tasks of one wave start together; waves are >= 5 s apart
    assert waves == 3, 'task creation times %s' % new


def test_broken_image_rolls_back_is_reported_and_the_good_bundle_deploys_again(sandbox, stack_swarm, run_playbook):
    update = {'Parallelism': 1, 'FailureAction': 'rollback', 'Monitor': '3s', 'MaxFailureRatio': 0}
    good = bundle(app=service(Replicas=2, UpdateConfig=update))
    run_playbook([deploy('rb', definition=good)])
    broken = bundle(app=service(image='crane-missing-image:1', Replicas=2, UpdateConfig=update))
    run = run_playbook([deploy('rb', definition=broken)], expect_failure=True)
    result = run.result('deploy', 'node1')
    assert 'rollback' in result['msg'] and 'rb_app' in result['msg'], result['msg']
    assert result['task_errors']['rb_app'], result
    live = inspect(sandbox, 'rb_app')
    assert live['UpdateStatus']['State'] == 'rollback_completed'
    assert live['Spec']['TaskTemplate']['ContainerSpec']['Image'] == 'busybox:latest'
    # The rollback is the earlier run's: deploying the good bundle again changes nothing and does not fail.
    again = run_playbook([deploy('rb', definition=good)])
    result = again.result('deploy', 'node1')
    assert again.changed == 0 and result['converged'] is True, result
    assert 'rollback_completed' in result['previous_update_failures']['rb_app'], result
    assert any('rb_app' in warning and 'rollback' in warning for warning in result.get('warnings', [])), result
    assert int(stack_services(sandbox, 'rb')['rb_app'].split('/')[0]) >= 2  # running (one may be on its way out)


def test_global_mode_runs_one_task_per_node(sandbox, stack_swarm, run_playbook):
    run_playbook([deploy('agents', definition=bundle(agent=service(Mode={'Global': {}})))])
    nodes = sandbox.docker('node1', 'service', 'ps', 'agents_agent', '--filter', 'desired-state=running',
                           '--format', '{{.Node}}').stdout.split()
    assert sorted(nodes) == ['node1', 'node2', 'node3']


def test_secret_content_change_rolls_the_service(sandbox, stack_swarm, run_playbook):
    def with_secret(content):
        return {'Version': '0.1', 'Secrets': {'token': {'Content': content}},
                'Services': {'app': service(Secrets=['token'], Command=['sh', '-c'],
                                            Args=['cat /run/secrets/token; echo; sleep 3600'])}}
    first = run_playbook([deploy('sec', definition=with_secret('one'))], verbosity=3)
    assert 'one' not in [line.strip() for line in first.output.splitlines()]
    old = sandbox.docker('node1', 'secret', 'ls', '--format', '{{.Name}}').stdout.split()
    checked = run_playbook([deploy('sec', definition=with_secret('two'))], check=True).result('deploy', 'node1')
    assert sandbox.docker('node1', 'secret', 'ls', '--format', '{{.Name}}').stdout.split() == old
    run = run_playbook([deploy('sec', definition=with_secret('two'))], diff=True)
    result = run.result('deploy', 'node1')
    assert list(result['services']['updated']) == ['sec_app']
    new = sandbox.docker('node1', 'secret', 'ls', '--format', '{{.Name}}').stdout.split()
    assert len(old) == 1 and len(new) == 1 and old != new  # a new version; the old one removed
    # Check mode told the same: the new version created, the old one removed, nothing observed converged.
    assert checked['secrets'] == result['secrets'] == {'created': new, 'removed': old}, (checked, result)
    assert checked['converged'] is None and result['converged'] is True
    reference = inspect(sandbox, 'sec_app')['Spec']['TaskTemplate']['ContainerSpec']['Secrets'][0]
    assert reference['SecretName'] == new[0] and reference['File']['Name'] == 'token'
    logs = sandbox.docker('node1', 'service', 'logs', '--raw', 'sec_app').stdout
    deadline = time.time() + 30
    while 'two' not in logs and time.time() < deadline:
        time.sleep(1)
        logs = sandbox.docker('node1', 'service', 'logs', '--raw', 'sec_app').stdout
    assert 'two' in logs


def test_prune_removes_services_no_longer_in_the_bundle(sandbox, stack_swarm, run_playbook):
    run_playbook([deploy('pr', definition=bundle(a=service(), b=service()))])
    kept = run_playbook([deploy('pr', definition=bundle(a=service()))])
    assert kept.changed == 0 and sorted(stack_services(sandbox, 'pr')) == ['pr_a', 'pr_b']
    pruned = run_playbook([deploy('pr', definition=bundle(a=service()), prune=True)])
    assert pruned.result('deploy', 'node1')['services']['removed'] == ['pr_b']
    assert sorted(stack_services(sandbox, 'pr')) == ['pr_a']


def test_absent_then_immediate_redeploy(sandbox, stack_swarm, run_playbook):
    definition = {'Version': '0.1', 'Networks': {'net': {}},
                  'Services': {'a': service(Networks=['net'], Replicas=3)}}
    plays = [deploy('re', task='up', definition=definition), remove('re', task='down'),
             deploy('re', task='up again', definition=definition)]
    run = run_playbook(plays)
    assert run.result('down', 'node1')['networks']['removed'] == ['re_net']
    assert run.result('up again', 'node1')['networks']['created'] == ['re_net']
    assert stack_services(sandbox, 're') == {'re_a': '3/3'}
    gone = run_playbook([remove('re'), remove('re')])
    assert gone.stats['node1']['changed'] == 1


def test_docker_cli_lists_and_removes_our_stacks(sandbox, stack_swarm, run_playbook):
    run_playbook([deploy('cli', definition=bundle(a=service()))])
    assert 'cli' in sandbox.docker('node1', 'stack', 'ls', '--format', '{{.Name}}').stdout.split()
    assert 'cli_a' in sandbox.docker('node1', 'stack', 'ps', 'cli', '--format', '{{.Name}}').stdout
    sandbox.docker('node1', 'stack', 'rm', 'cli')
    assert sandbox.docker('node1', 'service', 'ls', '-q').stdout.strip() == ''


def test_bad_bundle_fails_before_anything_is_deployed(sandbox, stack_swarm, run_playbook):
    broken = bundle(a=service(Replicas=2, Mode={'Global': {}}), b={'Imag': 'busybox:latest'})
    run = run_playbook([deploy('bad', definition=broken)], expect_failure=True)
    message = run.result('deploy', 'node1')['msg']
    assert '$.Services.b' in message and 'Image' in message, message
    assert '$.Services.a' in message, message
    assert sandbox.docker('node1', 'service', 'ls', '-q').stdout.strip() == ''


def test_a_create_the_engine_refuses_names_the_service_and_stops_the_rest(sandbox, stack_swarm, run_playbook):
    # A service outside the stack holds one of the stack's names: the engine refuses that create.
    sandbox.docker('node1', 'service', 'create', '--detach', '--name', 'taken_c', 'busybox:latest', 'sleep', '3600')
    try:
        services = dict((name, service()) for name in ('a', 'b', 'c', 'd', 'e', 'f'))
        run = run_playbook([deploy('taken', definition=bundle(**services), wait=False)], expect_failure=True)
        result = run.result('deploy', 'node1')
        assert result['msg'].startswith('creating service taken_c failed: '), result['msg']
        made = sandbox.docker('node1', 'service', 'ls', '--format', '{{.Name}}', '--filter',
                              'label=com.docker.stack.namespace=taken').stdout.split()
        assert 'taken_c' not in made and set(made) <= {'taken_a', 'taken_b', 'taken_d', 'taken_e', 'taken_f'}
        # The result lists what the engine has, read back after the refusal, not what was decided.
        assert sorted(result['services']['created']) == sorted(made), (result['services'], made)
        assert result['changed'] is bool(made)
        assert '%d of the 6 service creates and updates were made' % len(made) in result['msg'], result['msg']
        again = run_playbook([deploy('taken', definition=bundle(**services), wait=False)], expect_failure=True)
        result = again.result('deploy', 'node1')
        assert 'taken_c' in result['msg']
        made_again = sandbox.docker('node1', 'service', 'ls', '--format', '{{.Name}}', '--filter',
                                    'label=com.docker.stack.namespace=taken').stdout.split()
        assert sorted(result['services']['created']) == sorted(set(made_again) - set(made))
        assert result['changed'] is (made_again != made)
    finally:
        sandbox.docker('node1', 'service', 'rm', 'taken_c', check=False)
    # Once the name is free, a rerun completes the stack.
    last = run_playbook([deploy('taken', definition=bundle(**services), wait=False)])
    # Creates run several at a time, so which of d, e, f the refused runs reached varies: the rerun
    # creates exactly those still missing, taken_c among them.
    missing = sorted(set('taken_%s' % name for name in 'abcdef') - set(made_again))
    assert 'taken_c' in missing
    assert sorted(last.result('deploy', 'node1')['services']['created']) == missing
    assert sorted(stack_services(sandbox, 'taken')) == ['taken_%s' % name for name in 'abcdef']


def test_stack_info_groups_tasks_by_slot_with_logs(sandbox, stack_swarm, run_playbook):
    crashing = service(Command=['sh', '-c'], Args=['echo run-$RANDOM; sleep 1; exit 3'], Replicas=2,
                       RestartPolicy={'Condition': 'on-failure', 'Delay': '1s', 'MaxAttempts': 2})
    run_playbook([deploy('jobs', definition=bundle(crash=crashing), wait=False)])
    time.sleep(12)
    run = run_playbook([{'hosts': 'node1', 'gather_facts': False, 'tasks': [
        {'name': 'info', 'crane.swarm.swarm_stack_info': {'name': 'jobs', 'logs': True}}]}])
    services = run.result('info', 'node1')['services']
    assert [s['name'] for s in services] == ['jobs_crash']
    slots = services[0]['slots']
    assert sorted(slot['slot'] for slot in slots) == [1, 2]
    for slot in slots:
        assert len(slot['tasks']) == 3  # the first run and two restarts
        assert all(task['exit_code'] == 3 for task in slot['tasks'])
        assert sum(1 for line in slot['logs'] if 'run-' in line) == 3


EXTENDED = os.path.join(BUNDLES, 'good', 'extended-every-option.yml')
EXTERNAL = os.path.join(BUNDLES, 'good', 'external-objects.yml')


def test_extended_bundle_deploys_every_option(sandbox, stack_swarm, run_playbook):
    sandbox.docker('node1', 'network', 'create', '--driver', 'overlay', '--attachable', 'crane-shared')
    sandbox.exec('node1', 'sh', '-c', 'echo s | docker secret create crane-shared-token -')
    sandbox.exec('node1', 'sh', '-c', 'echo c | docker config create crane-shared-settings -')
    try:
        run_playbook([deploy('ext', src=EXTENDED), deploy('shared', task='external', src=EXTERNAL)])
        web = inspect(sandbox, 'ext_web')['Spec']
        template, container = web['TaskTemplate'], web['TaskTemplate']['ContainerSpec']
        assert web['UpdateConfig'] == {'Parallelism': 1, 'Delay': 5 * 10 ** 9, 'FailureAction': 'rollback',
                                       'Monitor': 10 * 10 ** 9, 'MaxFailureRatio': 0.25, 'Order': 'start-first'}
        assert web['RollbackConfig']['Order'] == 'stop-first' and web['RollbackConfig']['Parallelism'] == 2
        assert template['RestartPolicy'] == {'Condition': 'on-failure', 'Delay': 2 * 10 ** 9, 'MaxAttempts': 5,
                                             'Window': 60 * 10 ** 9}
        assert container['StopGracePeriod'] == 90 * 10 ** 9 and container['StopSignal'] == 'SIGTERM'
        assert container['Healthcheck']['Test'] == ['CMD', 'true'] and container['Healthcheck']['Retries'] == 3
        assert template['Resources']['Limits'] == {'NanoCPUs': 500000000, 'MemoryBytes': 64 * 2 ** 20, 'Pids': 100}
        assert template['Resources']['Reservations'] == {'NanoCPUs': 100000000, 'MemoryBytes': 16 * 2 ** 20}
        assert template['Placement']['MaxReplicas'] == 1
        assert template['Placement']['Preferences'] == [{'Spread': {'SpreadDescriptor': 'node.labels.zone'}}]
        assert web['EndpointSpec']['Mode'] == 'dnsrr'
        assert web['EndpointSpec']['Ports'] == [{'Protocol': 'tcp', 'TargetPort': 8080, 'PublishedPort': 8080,
                                                 'PublishMode': 'host'}]
        assert sorted(a['Aliases'] for a in template['Networks']) == [['web'], ['www', 'web']]  # as the CLI orders them
        assert sorted(s['File']['Name'] for s in container['Secrets']) == ['db_password', 'token']
        assert sorted(c['File']['Name'] for c in container['Configs']) == ['/etc/app.conf', 'motd']
        assert [m['Type'] for m in sorted(container['Mounts'], key=lambda m: m['Target'])] == ['bind', 'tmpfs', 'volume']
        assert container['DNSConfig']['Nameservers'] == ['10.231.0.53']
        assert container['Hosts'] == ['10.231.0.10 db db.crane.internal']
        assert container['Hostname'] == 'web-{{.Task.Slot}}'
        assert container['Labels']['log.group'] == 'web' and web['Labels']['tier'] == 'front'
        assert container['Init'] is True and container['ReadOnly'] is True and container['TTY'] is True
        assert container['CapabilityAdd'] == ['CAP_NET_ADMIN'] and container['CapabilityDrop'] == ['CAP_MKNOD']
        assert container['Sysctls'] == {'net.core.somaxconn': '1024'}
        assert container['Ulimits'] == [{'Name': 'nofile', 'Soft': 1024, 'Hard': 2048}]
        assert template['LogDriver'] == {'Name': 'json-file', 'Options': {'max-size': '10m'}}
        agent = inspect(sandbox, 'ext_agent')['Spec']
        assert 'Global' in agent['Mode'] and agent['TaskTemplate']['ContainerSpec']['Healthcheck']['Test'] == ['NONE']
        assert inspect(sandbox, 'ext_migrate')['Spec']['Mode'] == {
            'ReplicatedJob': {'MaxConcurrent': 2, 'TotalCompletions': 4}}
        assert 'GlobalJob' in inspect(sandbox, 'ext_cleanup')['Spec']['Mode']
        generic = inspect(sandbox, 'ext_gpu')['Spec']['TaskTemplate']['Resources']['Reservations']['GenericResources']
        assert {'DiscreteResourceSpec': {'Kind': 'gpu', 'Value': 1}} in generic
        api = inspect(sandbox, 'ext_api')
        assert sorted((p['Protocol'], p['TargetPort']) for p in api['Endpoint']['Ports']) == [('tcp', 8000), ('udp', 5353)]
        front = sandbox.docker_json('node1', 'network', 'inspect', 'ext_front')[0]
        assert front['Options'].get('encrypted') == '' and front['Attachable'] is True
        assert front['IPAM']['Config'][0]['Subnet'] == '10.231.0.0/24'
        assert sandbox.docker_json('node1', 'network', 'inspect', 'ext_back')[0]['Internal'] is True
        assert 'shared_client' in stack_services(sandbox, 'shared')

        again = run_playbook([deploy('ext', src=EXTENDED), deploy('shared', task='external', src=EXTERNAL)])
        assert again.changed == 0, again.output
    finally:
        for stack in ('ext', 'shared'):
            run_playbook([remove(stack)])
        sandbox.docker('node1', 'network', 'rm', 'crane-shared', check=False)
        sandbox.docker('node1', 'secret', 'rm', 'crane-shared-token', check=False)
        sandbox.docker('node1', 'config', 'rm', 'crane-shared-settings', check=False)


def api_version(sandbox):
    return tuple(int(part) for part in sandbox.api('node1', '/version')['ApiVersion'].split('.'))


def test_container_options_of_issue_12_deploy_and_rerun_unchanged(sandbox, stack_swarm, run_playbook):
    """Groups, StdinOpen, Isolation, OomScoreAdj, CredentialSpec, LogDriver without Name, as the engine keeps them."""
    services = {
        'main': service(Groups=['nogroup', '1234'], StdinOpen=True, Isolation='default', OomScoreAdj=0,
                        LogDriver={'Options': {'max-size': '1m'}},
                        Placement={'Constraints': ['node.role == manager']}),  # node1, for `id`
        # A Linux engine rejects every task with a credential spec (Windows gMSA): spec only, no wait.
        'gmsa': service(CredentialSpec={'Config': 'gmsa'}),
    }
    definition = {'Version': '0.1', 'Configs': {'gmsa': {'Content': '{"CmsPlugins": ["ActiveDirectory"]}'}},
                  'Services': services}
    run_playbook([deploy('opts', definition=definition, wait=False)])
    main = inspect(sandbox, 'opts_main')['Spec']['TaskTemplate']
    container = main['ContainerSpec']
    assert container['Groups'] == ['nogroup', '1234'] and container['OpenStdin'] is True
    assert container['Isolation'] == 'default' and 'OomScoreAdj' not in container
    assert main['LogDriver'] == {'Options': {'max-size': '1m'}}  # no Name: the engine's default driver
    config = sandbox.docker_json('node1', 'config', 'ls', '--filter', 'label=com.docker.stack.namespace=opts',
                                 '--format', '{{json .}}')
    gmsa = inspect(sandbox, 'opts_gmsa')['Spec']['TaskTemplate']['ContainerSpec']
    assert gmsa['Privileges']['CredentialSpec']['Config'] == config['ID']
    assert gmsa['Configs'] == [{'Runtime': {}, 'ConfigID': config['ID'], 'ConfigName': config['Name']}]

    again = run_playbook([deploy('opts', definition=definition, wait=False)])
    assert again.changed == 0, again.output
    checked = run_playbook([deploy('opts', definition=definition, wait=False)], check=True, diff=True)
    assert checked.changed == 0, checked.output
    for _attempt in range(60):  # the groups reach the running container
        tasks = sandbox.docker('node1', 'ps', '-q', '--filter', 'label=com.docker.swarm.service.name=opts_main').stdout
        if tasks.strip():
            break
        time.sleep(1)
    else:
        pytest.fail('no task of opts_main runs on node1: %s' % sandbox.docker('node1', 'service', 'ps', 'opts_main').stdout)
    groups = sandbox.docker('node1', 'exec', tasks.split()[0], 'id', '-G').stdout.split()
    assert '1234' in groups and '65534' in groups


def test_fields_the_engine_is_too_old_for_are_refused_before_anything_is_deployed(sandbox, stack_swarm, run_playbook):
    definition = bundle(a=service(OomScoreAdj=100, Healthcheck={'Test': ['CMD', 'true'], 'StartInterval': '1s'}))
    if api_version(sandbox) >= (1, 46):
        run_playbook([deploy('newer', definition=definition, wait=False)])
        container = inspect(sandbox, 'newer_a')['Spec']['TaskTemplate']['ContainerSpec']
        assert container['OomScoreAdj'] == 100 and container['Healthcheck']['StartInterval'] == 10 ** 9
        assert run_playbook([deploy('newer', definition=definition, wait=False)]).changed == 0
        return
    run = run_playbook([deploy('newer', definition=definition)], expect_failure=True)
    message = run.result('deploy', 'node1')['msg']
    assert message.startswith('nothing was deployed: '), message
    assert 'Services.a.OomScoreAdj needs Engine API 1.46 or later' in message, message
    if api_version(sandbox) < (1, 44):
        assert 'Services.a.Healthcheck.StartInterval needs Engine API 1.44 or later' in message, message
    assert sandbox.docker('node1', 'service', 'ls', '-q').stdout.strip() == ''


def test_resolve_image_never_blocks_without_a_registry(sandbox, stack_swarm, run_playbook):
    run = run_playbook([deploy('res', definition=bundle(a=service()), resolve_image='always')])
    result = run.result('deploy', 'node1')
    assert any('resolve_image' in warning for warning in result.get('warnings', [])), result
    assert inspect(sandbox, 'res_a')['Spec']['TaskTemplate']['ContainerSpec']['Image'] == 'busybox:latest'
    assert run_playbook([deploy('res', definition=bundle(a=service()), resolve_image='always')]).changed == 0


def test_registry_credentials_reach_the_engine_but_never_the_output(sandbox, stack_swarm, run_playbook):
    password = 'crane-pass-7f3a9'
    config = '{"auths": {"registry.example:5000": {"auth": "%s"}}}' % base64.b64encode(
        ('deploy:' + password).encode()).decode()
    sandbox.exec('node1', 'sh', '-c', 'mkdir -p /root/.docker && cat > /root/.docker/config.json',
                 input_bytes=config.encode())
    try:
        private = service(image='registry.example:5000/team/app:1', WithRegistryAuth=True)
        run = run_playbook([deploy('auth', definition=bundle(a=private), wait=False)], verbosity=3, diff=True)
    finally:
        sandbox.exec('node1', 'rm', '-f', '/root/.docker/config.json')
    assert run.result('deploy', 'node1')['services']['created'] == ['auth_a']
    assert password not in run.output
    assert base64.b64encode(('deploy:' + password).encode()).decode() not in run.output
    assert 'auth_a' in stack_services(sandbox, 'auth')


def test_a_crash_looping_new_service_is_not_called_converged(sandbox, stack_swarm, run_playbook):
    # Running for 2 s at a time: one poll sees it running, yet it never stays up.
    flaky = {'Image': 'busybox:latest', 'Command': ['sh', '-c', 'sleep 2; exit 4'],
             'RestartPolicy': {'Condition': 'any', 'Delay': '1s'}}
    run = run_playbook([deploy('flaky', definition=bundle(app=flaky))], expect_failure=True)
    result = run.result('deploy', 'node1')
    assert result['converged'] is False and list(result['not_converged']) == ['flaky_app'], result
    assert result['not_converged']['flaky_app']['reason'] == 'crash_loop', result
    assert any('non-zero exit (4)' in error for error in result['not_converged']['flaky_app']['task_errors']), result
    # The swarm keeps 2 tasks per slot: "keeps failing" cannot be read from the history it keeps.
    sandbox.docker('node1', 'swarm', 'update', '--task-history-limit', '2')
    try:
        definition = bundle(
            crash={'Image': 'busybox:latest', 'Command': ['sh', '-c', 'exit 3']},
            stuck=service(Placement={'Constraints': ['node.labels.crane-nowhere == yes']}),
            fine=service())
        started = time.monotonic()
        run = run_playbook([deploy('loop', definition=definition)], expect_failure=True)
        took = time.monotonic() - started
    finally:
        sandbox.docker('node1', 'swarm', 'update', '--task-history-limit', '5')
    result = run.result('deploy', 'node1')
    message = result['msg']
    report = result['not_converged']
    assert result['converged'] is False and sorted(report) == ['loop_crash', 'loop_stuck'], result
    assert report['loop_crash']['reason'] == 'crash_loop', report
    assert any('non-zero exit (3)' in error for error in report['loop_crash']['task_errors']), report
    assert report['loop_stuck']['reason'] == 'pending' and 'no suitable node' in report['loop_stuck']['message'], report
    assert 'loop_fine' not in message and 'no suitable node' in message, message
    # The wait stopped at the crash loop, long before its deadline: no timeout is claimed.
    assert took < 100 and 'within 120 s' not in message, (took, message)


def test_secret_contents_never_reach_the_output_of_a_failure(sandbox, stack_swarm, run_playbook, tmp_path):
    inline, in_file, in_config = 'crane-inline-9d27e1', 'crane-file-4b83aa', 'crane-config-6f01c2'
    (tmp_path / 'file-secret.txt').write_text(in_file)
    sandbox.docker('node1', 'service', 'create', '--detach', '--name', 'leak3_c', 'busybox:latest', 'sleep', '3600')

    def leaky(**services):
        return {'Version': '0.1', 'Secrets': {'inline': {'Content': inline}, 'infile': {'File': 'file-secret.txt'}},
                'Configs': {'conf': {'Content': in_config}},
                'Services': dict((name, service(Secrets=['inline', 'infile'], Configs=['conf'], **extra))
                                 for name, extra in services.items())}
    tasks = [
        ('unreachable engine', 'node1', dict(name='leak1', definition=leaky(a={}),
                                             docker_host='unix:///run/crane-no-engine.sock')),
        ('worker node', 'node2', dict(name='leak2', definition=leaky(a={}))),
        ('engine refusal', 'node1', dict(name='leak3', definition=leaky(a={}, c={}), wait=False)),
        ('wait failure', 'node1', dict(name='leak4', wait_timeout=5, definition=leaky(
            a={'Placement': {'Constraints': ['node.labels.crane-nowhere == yes']}}))),
    ]
    plays = [{'hosts': host, 'gather_facts': False, 'tasks': [
        {'name': name, 'crane.swarm.swarm_stack': options, 'ignore_errors': True}]} for name, host, options in tasks]
    try:
        run = run_playbook(plays, verbosity=3)
    finally:
        sandbox.docker('node1', 'service', 'rm', 'leak3_c', check=False)
    for name, host, dummy in tasks:
        assert run.status(name, host) == 'ignored', (name, run.result(name, host))
    assert 'not a swarm manager' in run.result('worker node', 'node2')['msg']
    assert 'leak3_c' in run.result('engine refusal', 'node1')['msg']
    assert 'leak4_a' in run.result('wait failure', 'node1')['msg']
    for value in (inline, in_file, in_config):
        for form in (value, base64.b64encode(value.encode()).decode()):
            assert form not in run.output, '%s appears in the output' % form


def test_a_network_too_small_for_the_stack_fails_before_anything_is_created(sandbox, stack_swarm, run_playbook):
    # 300 tasks on one network of the swarm's default size (/24): 1 VIP + 300 tasks + load balancers > 256.
    many = service(Replicas=300, Networks=['net'], Placement={'Constraints': ['node.labels.crane-nowhere == yes']})
    definition = {'Version': '0.1', 'Networks': {'net': {}}, 'Services': {'many': many, 'other': service()}}
    run = run_playbook([deploy('crowd', definition=definition, wait=False)], expect_failure=True)
    result = run.result('deploy', 'node1')
    message = result['msg']
    assert 'crowd_net' in message and '/24' in message and '307' in message and 'IPAM' in message, message
    assert result['changed'] is False and result['services']['created'] == [], result
    assert sandbox.docker('node1', 'service', 'ls', '-q').stdout.strip() == ''
    assert 'crowd_net' not in sandbox.docker('node1', 'network', 'ls').stdout
    # A larger subnet in the bundle's IPAM config is the fix.
    definition['Networks']['net'] = {'IPAM': {'Config': [{'Subnet': '10.232.0.0/22'}]}}
    checked = run_playbook([deploy('crowd', definition=definition, wait=False)], check=True)
    assert sorted(checked.result('deploy', 'node1')['services']['created']) == ['crowd_many', 'crowd_other']


NAMES = os.path.join(BUNDLES, 'good', 'names-volumes.yml')


def test_names_volumes_and_x_keys_reach_the_live_objects(sandbox, stack_swarm, run_playbook):
    sandbox.docker('node1', 'network', 'create', '--driver', 'overlay', '--attachable', 'crane-names-edge')
    sandbox.exec('node1', 'sh', '-c', 'echo ca | docker secret create crane-names-ca -')
    namespace = {'com.docker.stack.namespace': 'nm'}
    try:
        run_playbook([deploy('nm', src=NAMES)])
        proxy = sandbox.docker_json('node1', 'network', 'inspect', 'crane-names-proxy')[0]
        assert proxy['Labels'] == dict(namespace, role='proxy') and proxy['Driver'] == 'overlay'
        secret = sandbox.docker_json('node1', 'secret', 'inspect', 'crane-names-site.key')[0]['Spec']
        assert secret['Labels']['com.docker.stack.namespace'] == 'nm'
        config = sandbox.docker_json('node1', 'config', 'inspect', 'crane-names-motd')[0]['Spec']
        assert base64.b64decode(config['Data']) == b'hello from a fixed name'
        web = inspect(sandbox, 'nm_web')['Spec']
        container = web['TaskTemplate']['ContainerSpec']
        assert sorted(s['SecretName'] for s in container['Secrets']) == ['crane-names-ca', 'crane-names-site.key']
        assert [c['ConfigName'] for c in container['Configs']] == ['crane-names-motd']
        attached = sorted(sandbox.docker_json('node1', 'network', 'inspect', n['Target'])[0]['Name']
                          for n in web['TaskTemplate']['Networks'])
        assert attached == ['crane-names-edge', 'crane-names-proxy']
        mounts = dict((m['Target'], m) for m in container['Mounts'])
        assert mounts['/data'] == {'Type': 'volume', 'Source': 'nm_data', 'Target': '/data', 'VolumeOptions': {
            'Labels': dict(namespace, backup='daily'),
            'DriverConfig': {'Name': 'local', 'Options': {'type': 'tmpfs', 'device': 'tmpfs', 'o': 'size=1m'}}}}
        assert mounts['/cache'] == {'Type': 'volume', 'Source': 'crane-names-cache', 'Target': '/cache',
                                    'VolumeOptions': {'NoCopy': True, 'Labels': namespace}}
        assert mounts['/archive'] == {'Type': 'volume', 'Source': 'crane-names-archive', 'Target': '/archive',
                                      'ReadOnly': True}
        # The engine of the node running the task made the volume with those options.
        node = sandbox.docker('node1', 'service', 'ps', 'nm_web', '--filter', 'desired-state=running',
                              '--format', '{{.Node}}').stdout.split()[0]
        volume = sandbox.docker_json(node, 'volume', 'inspect', 'nm_data')[0]
        assert volume['Labels'] == dict(namespace, backup='daily') and volume['Options']['type'] == 'tmpfs'

        again = run_playbook([deploy('nm', src=NAMES)])
        assert again.changed == 0, again.output

        with open(NAMES, encoding='utf-8') as handle:
            rotated = yaml.safe_load(handle)
        rotated['Secrets']['site_key']['Content'] = 'key two'
        refused = run_playbook([deploy('nm', definition=rotated)], expect_failure=True)
        message = refused.result('deploy', 'node1')['msg']
        assert 'Secrets.site_key.Name' in message and 'give Secrets.site_key a new Name' in message, message
        assert 'key two' not in refused.output and 'key one' not in refused.output
        assert inspect(sandbox, 'nm_web')['Spec'] == web  # nothing changed

        gone = run_playbook([remove('nm')]).result('remove', 'node1')
        assert gone['networks']['removed'] == ['crane-names-proxy']
        assert sorted(gone['secrets']['removed']) == ['crane-names-site.key']
    finally:
        run_playbook([remove('nm')])
        sandbox.docker('node1', 'network', 'rm', 'crane-names-edge', check=False)
        sandbox.docker('node1', 'secret', 'rm', 'crane-names-ca', check=False)
        # Volumes outlive stacks (as with the CLI); a task's container may hold one a few seconds more.
        deadline = time.time() + 30
        for host in ('node1', 'node2', 'node3'):
            while True:
                left = set(sandbox.docker(host, 'volume', 'ls', '-q').stdout.split()) & {
                    'nm_data', 'crane-names-cache', 'crane-names-archive'}
                if not left or time.time() > deadline:
                    break
                sandbox.docker(host, 'volume', 'rm', *sorted(left), check=False)
                time.sleep(0.5)


def test_vault_encrypted_stack_files_deploy_their_plain_content(sandbox, stack_swarm, run_playbook, tmp_path,
                                                                monkeypatch):
    """A vaulted bundle, compose file and secret file: the container reads the plain text, never the ciphertext."""
    from ansible.parsing.vault import VaultLib, VaultSecret
    password_file = tmp_path / 'vault-password'
    password_file.write_text('correct horse\n')
    vault = VaultLib([('default', VaultSecret(b'correct horse'))])
    command = ['sh', '-c', 'cat /run/secrets/token; echo; sleep 3600']
    (tmp_path / 'token').write_bytes(vault.encrypt(b'vaulted-plain-4711'))
    (tmp_path / 'stack.yml').write_bytes(vault.encrypt(yaml.safe_dump(
        {'Version': '0.1', 'Secrets': {'token': {'File': 'token'}},
         'Services': {'app': service(Secrets=['token'], Command=command[:2], Args=command[2:])}}).encode()))
    (tmp_path / 'docker-stack.yml').write_bytes(vault.encrypt(yaml.safe_dump(
        {'services': {'app': {'image': 'busybox:latest', 'command': command, 'secrets': ['token']}},
         'secrets': {'token': {'file': './token'}}}).encode()))
    monkeypatch.setenv('ANSIBLE_VAULT_PASSWORD_FILE', str(password_file))
    run = run_playbook([deploy('vb', src=str(tmp_path / 'stack.yml')), deploy('vc', compose=str(tmp_path / 'docker-stack.yml'))],
                       verbosity=3)
    assert run.rc == 0 and 'vaulted-plain-4711' not in run.output
    for stack in ('vb', 'vc'):
        logs, deadline = '', time.time() + 60
        while 'vaulted-plain-4711' not in logs and time.time() < deadline:
            time.sleep(1)
            logs = sandbox.docker('node1', 'service', 'logs', '--raw', '%s_app' % stack).stdout
        assert 'vaulted-plain-4711' in logs and '$ANSIBLE_VAULT' not in logs, (stack, logs)
    monkeypatch.delenv('ANSIBLE_VAULT_PASSWORD_FILE')
    refused = run_playbook([deploy('vb', src=str(tmp_path / 'stack.yml'))], expect_failure=True)
    assert 'stack.yml: cannot read it: A vault password or secret must be specified' in refused.output


def test_inline_vaulted_values_reach_the_stack_as_plain_text(sandbox, stack_swarm, run_playbook, tmp_path, monkeypatch):
    """`env` values and a whole `definition` written as `!vault |` strings in the playbook."""
    from ansible.parsing.vault import VaultLib, VaultSecret
    password_file = tmp_path / 'vault-password'
    password_file.write_text('correct horse\n')
    vault = VaultLib([('default', VaultSecret(b'correct horse'))])

    def vaulted(text, indent):
        lines = vault.encrypt(text.encode()).decode().splitlines()
        return '!vault |\n' + '\n'.join(' ' * indent + line for line in lines)

    definition = json.dumps({'Version': '0.1', 'Services': {'app': service(Env=['MODE=inline-vault-def'])}})
    playbook = '''
- hosts: node1
  gather_facts: false
  tasks:
    - name: compose with a vaulted env value
      crane.swarm.swarm_stack:
        name: ve
        compose:
          services:
            app: {image: "busybox:latest", command: ["sleep", "3600"], environment: {PASSWORD: "${PASSWORD}"}}
        env:
          PASSWORD: %s
    - name: vaulted definition
      crane.swarm.swarm_stack:
        name: vd
        definition: %s
''' % (vaulted('inline-vault-4711', 12), vaulted(definition, 10))
    monkeypatch.setenv('ANSIBLE_VAULT_PASSWORD_FILE', str(password_file))
    run = run_playbook(playbook, verbosity=3)
    assert 'inline-vault-4711' not in run.output
    env = inspect(sandbox, 've_app')['Spec']['TaskTemplate']['ContainerSpec']['Env']
    assert env == ['PASSWORD=inline-vault-4711'], env
    assert inspect(sandbox, 'vd_app')['Spec']['TaskTemplate']['ContainerSpec']['Env'] == ['MODE=inline-vault-def']
