# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loading and checking bundles: good ones pass, each bad one is refused at the JSON path of its problem."""

from __future__ import annotations

import datetime
import json
import os

import pytest

from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.check import (
    SCHEMA_KEYWORDS, BundleError, check_bundle, json_path, nearest_key, structure_errors, unknown_key_message,
    without_extensions)
from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.schema import BUNDLE_SCHEMA
from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.reader import load_bundle_text
from jsonschema_oracle import schema_validator

from unit_paths import BUNDLES
GOOD = os.path.join(BUNDLES, 'good')
BAD = os.path.join(BUNDLES, 'bad')
GOOD_BUNDLES = ('plain-1.12.dab', 'extended-every-option.yml', 'external-objects.yml', 'names-volumes.yml')

# Each bad bundle has one problem: file -> (the JSON path reported, words the message must hold).
BAD_BUNDLES = {
    'image-missing.json': ('$.Services.web.Image', 'required key is missing'),
    'image-empty.json': ('$.Services.web.Image', 'must not be empty'),
    'image-not-a-string.json': ('$.Services.web.Image', 'expected string, got integer'),
    'unknown-service-key-misspelt.json': ('$.Services.web.Imgae', "did you mean 'Image'?"),
    'unknown-key-compose-spelling.yml': ('$.Services.web.update_config', "did you mean 'UpdateConfig'?"),
    'unknown-top-level-key.json': ('$.Service', "did you mean 'Services'?"),
    'unknown-nested-key.yml': ('$.Services.web.UpdateConfig.Paralelism', "did you mean 'Parallelism'?"),
    'unknown-mode.yml': ('$.Services.web.Mode.Daemon', "unknown key 'Daemon'"),
    'replicas-with-global-mode.yml': ('$.Services.agent.Replicas', 'conflicts with Mode Global'),
    'replicas-with-job-mode.yml': ('$.Services.migrate.Replicas', 'conflicts with Mode ReplicatedJob'),
    'replicas-given-twice.yml': ('$.Services.web.Replicas', 'given twice'),
    'replicas-negative.json': ('$.Services.web.Replicas', 'must be at least 0, got -1'),
    'replicas-not-an-integer.yml': ('$.Services.web.Replicas', 'expected integer, got string'),
    'two-modes-at-once.yml': ('$.Services.web.Mode', 'give exactly one of: Global, GlobalJob, Replicated, ReplicatedJob'),
    'update-delay-not-a-duration.yml': ('$.Services.web.UpdateConfig.Delay', "'5 seconds' is not a duration"),
    'stop-grace-period-negative.json': ('$.Services.web.StopGracePeriod', 'cannot be negative'),
    'healthcheck-interval-in-days.yml': ('$.Services.web.Healthcheck.Interval', "'1d' is not a duration"),
    'memory-limit-not-a-size.yml': ('$.Services.web.Resources.Limits.Memory', "'64 megabytes' is not a size"),
    'tmpfs-size-not-a-size.yml': ('$.Services.web.Mounts[0].TmpfsOptions.SizeBytes', "'lots' is not a size"),
    'cpus-not-a-number.yml': ('$.Services.web.Resources.Reservations.CPUs', "'half' is not a CPU count"),
    'cpus-too-precise.json': ('$.Services.web.Resources.Limits.CPUs', 'too precise'),
    'network-not-defined.yml': ('$.Services.web.Networks[1]', "network 'back' is not defined in the stack's Networks"),
    'network-target-not-defined.yml': ('$.Services.web.Networks[0].Target', "did you mean 'front'?"),
    'secret-not-defined.yml': ('$.Services.web.Secrets[0]', "secret 'db_pasword' is not defined"),
    'config-not-defined.yml': ('$.Services.web.Configs[0].Source', "config 'app_conf' is not defined"),
    'host-network-with-networks.yml': ('$.Services.agent.HostNetwork', 'conflicts with Networks'),
    'host-network-with-ingress-port.yml': ('$.Services.agent.Ports[0]', 'set PublishMode: host'),
    'published-port-taken-by-two-services.yml': ('$.Services.web.Ports[0].PublishedPort',
                                                 'port 8080/tcp is already published by $.Services.api.Ports[0]'),
    'published-port-twice-in-one-service.json': ('$.Services.web.Ports[1].PublishedPort',
                                                 'already published by $.Services.web.Ports[0]'),
    'port-protocol-icmp.yml': ('$.Services.web.Ports[0].Protocol', "must be 'tcp' or 'udp' or 'sctp', got 'icmp'"),
    'port-out-of-range.json': ('$.Services.web.Ports[0].Port', 'must be at most 65535'),
    'port-without-target.json': ('$.Services.web.Ports[0].Port', 'required key is missing'),
    'publish-mode-unknown.yml': ('$.Services.web.Ports[0].PublishMode', "got 'mesh'"),
    'restart-condition-always.yml': ('$.Services.web.RestartPolicy.Condition', "'none' or 'on-failure' or 'any'"),
    'rollback-config-failure-action-rollback.yml': ('$.Services.web.RollbackConfig.FailureAction',
                                                    "must be 'continue' or 'pause', got 'rollback'"),
    'update-order-unknown.yml': ('$.Services.web.UpdateConfig.Order', "'stop-first' or 'start-first'"),
    'max-failure-ratio-above-one.json': ('$.Services.web.UpdateConfig.MaxFailureRatio', 'must be at most 1'),
    'endpoint-mode-unknown.yml': ('$.Services.web.EndpointMode', "must be 'vip' or 'dnsrr'"),
    'dnsrr-with-ingress-port.yml': ('$.Services.web.EndpointMode', 'dnsrr cannot publish ports in ingress mode'),
    'env-as-a-mapping.yml': ('$.Services.web.Env', 'expected array, got object'),
    'label-value-not-a-string.yml': ('$.Services.web.Labels.version', 'expected string, got integer'),
    'version-unknown.json': ('$.Version', "must be '0.1', got '1.0'"),
    'services-missing.json': ('$.Services', 'required key is missing'),
    'services-empty.json': ('$.Services', 'must not be empty'),
    'service-name-with-space.yml': ("$.Services['web server']", "'web server' is not a valid name"),
    'service-not-a-mapping.yml': ('$.Services.web', 'expected object, got string'),
    'bind-mount-without-source.yml': ('$.Services.web.Mounts[0].Source', 'a bind mount needs the host path'),
    'volume-options-on-bind-mount.yml': ('$.Services.web.Mounts[0].VolumeOptions', 'apply to volume mounts, this one is bind'),
    'mount-type-nfs.yml': ('$.Services.web.Mounts[0].Type', "got 'nfs'"),
    'tmpfs-mount-with-source.yml': ('$.Services.web.Mounts[0].Source', 'a tmpfs mount has no Source'),
    'secret-with-file-and-content.yml': ('$.Secrets.db_password.Content', 'give File or Content, not both'),
    'secret-without-content.yml': ('$.Secrets.db_password', 'give File'),
    'external-network-with-driver.yml': ('$.Networks.shared.Driver', 'External network already exists'),
    'healthcheck-test-unknown-kind.yml': ('$.Services.web.Healthcheck.Test', "got 'RUN'"),
    'constraint-without-operator.yml': ('$.Services.web.Placement.Constraints[0]', "'node.role manager' is not a constraint"),
    'spread-not-a-label.yml': ('$.Services.web.Placement.Preferences[0].Spread', 'should start with node.labels.'),
    'ulimit-soft-above-hard.yml': ('$.Services.web.Ulimits[0].Soft', 'soft limit 4096 is above the hard limit 1024'),
    'hosts-entry-compose-syntax.yml': ('$.Services.web.Hosts[0]', "'db:10.0.0.5' is not a hosts entry"),
    'network-entry-a-number.json': ('$.Services.web.Networks[0]', 'expected string or object, got integer'),
    'secret-target-used-twice.yml': ('$.Services.web.Secrets[1]', "file 'password' is already the target of Secrets[0]"),
    'secret-file-mode-not-octal.yml': ('$.Services.web.Secrets[0].Mode', "'0999' does not have the expected form"),
    'generic-resource-without-value.yml': ('$.Services.web.Resources.Reservations.GenericResources[0].Value',
                                           'required key is missing'),
    'bundle-is-a-list.yml': ('$', 'got array'),
    'network-name-not-a-dns-label.yml': ('$.Networks.proxy.Name', "'proxy.net' is not a valid name"),
    'secret-name-with-a-slash.yml': ('$.Secrets.key.Name', "'site/key' does not have the expected form"),
    'stack-volume-mount-with-driver-config.yml': ('$.Services.web.Mounts[0].VolumeOptions.DriverConfig',
                                                  'has its DriverConfig in Volumes.data (Driver, DriverOpts)'),
    'external-volume-with-labels.yml': ('$.Volumes.archive.Labels', 'External volume already exists'),
    'extension-key-misspelt.yml': ('$.Services.web.X-note', "unknown key 'X-note'"),
}


def read_bundle(directory, name):
    with open(os.path.join(directory, name), encoding='utf-8') as handle:
        return load_bundle_text(handle.read(), name)


@pytest.fixture(scope='module')
def validator():
    return schema_validator()


def test_the_corpus_is_exactly_the_table():
    assert sorted(os.listdir(BAD)) == sorted(BAD_BUNDLES)
    assert len(BAD_BUNDLES) >= 30


@pytest.mark.parametrize('name', sorted(BAD_BUNDLES))
def test_bad_bundle_is_refused_at_the_path_of_its_problem(name):
    path, words = BAD_BUNDLES[name]
    errors = check_bundle(read_bundle(BAD, name))
    assert [error.path for error in errors] == [path], errors
    assert words in errors[0].message


@pytest.mark.parametrize('name', sorted(BAD_BUNDLES))
def test_jsonschema_finds_no_problem_of_form_our_checks_miss(name, validator):
    """jsonschema judges BUNDLE_SCHEMA independently: what it reports, our structure checks report alike."""
    bundle = read_bundle(BAD, name)
    from_jsonschema = [BundleError(path, message) for path, message in validator(bundle)]
    assert from_jsonschema in ([], structure_errors(bundle))


def test_the_schema_uses_only_keywords_our_checks_understand():
    def keywords(schema, under_properties=False):
        if isinstance(schema, dict):
            for key, value in schema.items():
                if not under_properties:
                    yield key
                names = key in ('properties', '$defs', 'patternProperties')  # what follows are names, not keywords
                yield from keywords(value, under_properties=names and not under_properties)
        elif isinstance(schema, list):
            for value in schema:
                yield from keywords(value)
    used = set(keywords(BUNDLE_SCHEMA))
    assert used - SCHEMA_KEYWORDS == set()
    assert {'anyOf', 'additionalProperties', 'pattern', 'enum'} <= used  # the walk does reach the keywords


@pytest.mark.parametrize('name', GOOD_BUNDLES)
def test_good_bundles_have_no_problem_for_us_or_jsonschema(name, validator):
    bundle = read_bundle(GOOD, name)
    assert check_bundle(bundle) == []
    assert list(validator(bundle)) == []


def test_a_plain_dab_validates_unchanged(validator):
    bundle = read_bundle(GOOD, 'plain-1.12.dab')
    assert list(validator(bundle)) == []
    assert set(bundle['Services']['web']) == {'Image', 'Command', 'Args', 'Env', 'Labels', 'Ports', 'WorkingDir', 'User',
                                              'Networks'}


def test_the_extended_example_uses_every_service_key():
    from ansible_collections.crane.swarm.plugins.plugin_utils.bundle.schema import BUNDLE_SCHEMA
    bundle = read_bundle(GOOD, 'extended-every-option.yml')
    used = set()
    for service in bundle['Services'].values():
        used.update(service)
    # Mode and the Replicas shortcut exclude each other in one service, but both appear.
    # CredentialSpec (Windows gMSA) is left out: a Linux engine rejects every task that has one (measured,
    # "invalid --security-opt"), and the integration test deploys this file; test_spec.py covers it.
    assert used | {'CredentialSpec'} == set(BUNDLE_SCHEMA['$defs']['Service']['properties'])


def test_yaml_and_json_give_the_same_bundle():
    as_yaml = read_bundle(GOOD, 'extended-every-option.yml')
    as_json = load_bundle_text(json.dumps(as_yaml, indent=2), 'bundle.json')
    assert as_json == as_yaml
    assert as_yaml['Services']['web']['Secrets'][1]['Mode'] == 0o400  # YAML's 0400 is octal


def test_two_problems_at_two_paths_are_both_reported():
    bundle = {'Services': {'web': {'Image': '', 'UpdateConfig': {'Delay': 'soon'}}}}
    paths = [error.path for error in check_bundle(bundle)]
    assert paths == ['$.Services.web.Image', '$.Services.web.UpdateConfig.Delay']


def test_jsonschema_itself_reports_unknown_keys_with_the_nearest_key(validator):
    problems = list(validator({'Services': {'web': {'Image': 'busybox', 'WorkDir': '/srv'}}}))
    assert problems == [('$.Services.web.WorkDir', "unknown key 'WorkDir'; did you mean 'WorkingDir'?")]


def test_jsonschema_picks_the_branch_meant_for_the_value(validator):
    problems = list(validator({'Services': {'web': {'Image': 'busybox', 'Networks': [{'Target': 'front', 'Alias': ['x']}]}}}))
    assert problems == [('$.Services.web.Networks[0].Alias', "unknown key 'Alias'; did you mean 'Aliases'?")]


def test_bundle_error_reads_path_then_message():
    error = BundleError('$.Services.web.UpdateConfig.Delay', "'5 seconds' is not a duration")
    assert str(error) == "$.Services.web.UpdateConfig.Delay: '5 seconds' is not a duration"
    assert error.path == '$.Services.web.UpdateConfig.Delay'


@pytest.mark.parametrize('parts, path', [
    ([], '$'), (['Services', 'web', 'Ports', 0, 'Port'], '$.Services.web.Ports[0].Port'),
    (['Services', 'web', 'Labels', 'com.example.tier'], "$.Services.web.Labels['com.example.tier']"),
])
def test_json_path(parts, path):
    assert json_path(parts) == path


@pytest.mark.parametrize('key, nearest', [
    ('image', 'Image'), ('working_dir', 'WorkingDir'), ('stop-grace-period', 'StopGracePeriod'),
    ('Replica', 'Replicas'), ('Healthchek', 'Healthcheck'), ('tty', 'TTY'), ('dns_config', 'DNSConfig'), ('zzz', None),
])
def test_nearest_key(key, nearest):
    valid = ('Image', 'WorkingDir', 'StopGracePeriod', 'Replicas', 'Healthcheck', 'TTY', 'DNSConfig')
    assert nearest_key(key, valid) == nearest


def test_unknown_key_without_a_near_one_lists_the_valid_keys():
    assert unknown_key_message('zzz', ['Kind', 'Value']) == "unknown key 'zzz'; valid keys here: Kind, Value"


def test_anything_under_an_empty_mode_is_unknown():
    errors = check_bundle({'Services': {'web': {'Image': 'busybox', 'Mode': {'Global': {'Replicas': 2}}}}})
    assert [str(error) for error in errors] == ["$.Services.web.Mode.Global.Replicas: unknown key 'Replicas': nothing may be set here"]


def test_plain_dab_networks_need_no_declaration_but_declared_ones_do():
    service = {'Image': 'busybox', 'Networks': ['front']}
    assert check_bundle({'Services': {'web': service}}) == []
    assert [error.path for error in check_bundle({'Networks': {}, 'Services': {'web': service}})] == [
        '$.Services.web.Networks[0]']


def test_external_network_satisfies_a_reference():
    bundle = {'Networks': {'shared': {'External': True}}, 'Services': {'web': {'Image': 'b', 'Networks': ['shared']}}}
    assert check_bundle(bundle) == []


def test_host_mode_ports_may_repeat_across_services():
    port = {'Port': 80, 'PublishedPort': 8080, 'PublishMode': 'host'}
    bundle = {'Services': {'a': {'Image': 'b', 'Ports': [port]}, 'b': {'Image': 'b', 'Ports': [port]}}}
    assert check_bundle(bundle) == []


def test_same_published_port_on_two_protocols_is_fine():
    ports = [{'Port': 53, 'PublishedPort': 53, 'Protocol': 'udp'}, {'Port': 53, 'PublishedPort': 53}]
    assert check_bundle({'Services': {'dns': {'Image': 'b', 'Ports': ports}}}) == []


@pytest.mark.parametrize('text, message', [
    ('{"Services": {"web": }}', 'broken.json: line 1 column 22: Expecting value'),
    ('Services:\n  web: [\n', 'broken.json: line 3 column 1:'),
    ('{"Services": {}, "Services": {}}', "broken.json: key 'Services' appears twice"),
    ('Services:\n  web: {Image: a}\n  web: {Image: b}\n', 'broken.json: line 3 column 3: key \'web\' appears twice'),
    ('  \n', 'broken.json: the bundle is empty'),
])
def test_load_errors_name_the_source_and_line(text, message):
    with pytest.raises(ValueError) as raised:
        load_bundle_text(text, 'broken.json')
    assert str(raised.value).startswith(message)


def test_yaml_merge_keys_may_be_overridden():
    text = 'x: &base {Image: a, User: nobody}\nServices:\n  web:\n    <<: *base\n    Image: b\n'
    assert load_bundle_text(text, 'b.yml')['Services']['web'] == {'Image': 'b', 'User': 'nobody'}


def test_a_secret_content_is_never_quoted(validator):
    bundle = {'Secrets': {'pw': {'Content': 987654321}}, 'Services': {'web': {'Image': 'b', 'Secrets': ['pw']}}}
    from_jsonschema = ['%s: %s' % problem for problem in validator(bundle)]
    for errors in (from_jsonschema, [str(error) for error in check_bundle(bundle)]):
        assert errors == ['$.Secrets.pw.Content: expected string, got integer']


def test_x_keys_are_accepted_at_the_top_and_in_a_service(validator):
    bundle = {'x-top': {'any': ['thing']}, 'Services': {'web': {'Image': 'b', 'x-anchor': 1}}}
    assert check_bundle(bundle, 'demo') == [] and list(validator(bundle)) == []


def test_x_keys_elsewhere_are_still_unknown():
    bundle = {'Services': {'web': {'Image': 'b', 'UpdateConfig': {'x-note': 1}}}}
    assert [error.path for error in check_bundle(bundle)] == ['$.Services.web.UpdateConfig.x-note']


def test_external_objects_may_name_the_existing_one():
    bundle = {'Networks': {'edge': {'External': True, 'Name': 'corp.edge'}},
              'Secrets': {'ca': {'External': True, 'Name': 'corp-ca'}},
              'Volumes': {'old': {'External': True, 'Name': 'old-data'}},
              'Services': {'web': {'Image': 'b', 'Networks': ['edge'], 'Secrets': ['ca'],
                                   'Mounts': [{'Type': 'volume', 'Source': 'old', 'Target': '/old'}]}}}
    assert check_bundle(bundle, 'demo') == []


@pytest.mark.parametrize('section, items, path', [
    ('Networks', {'a': {'Name': 'demo_b'}, 'b': {}}, '$.Networks.b'),
    ('Networks', {'a': {'Name': 'proxy'}, 'b': {'Name': 'proxy'}}, '$.Networks.b.Name'),
    ('Secrets', {'a': {'Name': 'key', 'Content': 'x'}, 'b': {'Name': 'key', 'Content': 'y'}}, '$.Secrets.b.Name'),
    ('Configs', {'a': {'Name': 'conf', 'Content': 'x'}, 'b': {'Name': 'conf', 'Content': 'y'}}, '$.Configs.b.Name'),
])
def test_two_objects_of_one_docker_name_are_refused(section, items, path):
    errors = check_bundle({section: items, 'Services': {'web': {'Image': 'b'}}}, 'demo')
    assert [error.path for error in errors] == [path]
    assert 'is already that of %s.a; give each its own Name' % section in errors[0].message


def test_a_fixed_name_is_not_checked_with_a_digest_after_it():
    # 64 characters: the longest secret name; <stack>_<name>_<digest> of the same would not fit.
    name = 's' * 64
    bundle = {'Secrets': {'key': {'Name': name, 'Content': 'x'}}, 'Services': {'web': {'Image': 'b'}}}
    assert check_bundle(bundle, 'demo') == []
    assert [error.path for error in check_bundle(dict(bundle, Secrets={'key': {'Name': name + 's', 'Content': 'x'}}),
                                                 'demo')] == ['$.Secrets.key.Name']


def test_a_named_network_is_checked_as_named_not_as_scoped():
    bundle = {'Networks': {'n' * 60: {'Name': 'proxy'}}, 'Services': {'web': {'Image': 'b', 'Networks': ['n' * 60]}}}
    assert check_bundle(bundle, 'a-long-stack-name') == []


def test_x_keys_are_not_sent_to_the_module():
    bundle = {'x-when': datetime.date(2020, 1, 1), 'Services': {'web': {'Image': 'b', 'x-when': datetime.date(2020, 1, 1)}}}
    assert without_extensions(bundle) == {'Services': {'web': {'Image': 'b'}}}
    assert 'x-when' in bundle  # the caller's bundle is left as it was
