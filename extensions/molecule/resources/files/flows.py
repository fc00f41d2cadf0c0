"""Real traffic through the firewall scenario's lab: start TCP listeners, try flows, stop the listeners.

    flows.py SPEC.json        (run as root on the controller; prints one line per flow, exits 1 on a mismatch)

SPEC: {"listeners": [{"netns", "addr", "port", "label"}],
       "flows": [{"name", "netns", "addr", "port" (omit for ICMP echo), "expect": true|false, "reply": "..."}]}
A listener answers each connection with "<label> <peer address>", so a flow sees which host answered and
which source address that host saw (masquerade or not).  Listeners are started with `ip netns exec`, which
execs in place, so the PIDs this script holds are the listeners' own; it kills exactly those.
"""
import json
import subprocess
import sys
import threading
import time

SERVER = r'''
import socket, sys
addr, port, label = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET6 if ':' in addr else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port)); s.listen(16)
while True:
    c, peer = s.accept()
    c.sendall(('%s %s\n' % (label, peer[0])).encode()); c.close()
'''
CLIENT = r'''
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1.5)
    print(c.makefile().readline().strip())
except OSError as exc:
    print('blocked: %s' % exc); sys.exit(1)
'''


def netns(ns, argv):
    return ['ip', 'netns', 'exec', ns] + argv


def try_flow(flow, results):
    if flow.get('port') is None:
        proc = subprocess.run(netns(flow['netns'], ['ping', '-c1', '-W1', '-n', flow['addr']]),
                              capture_output=True, text=True, check=False)
        ok, reply = proc.returncode == 0, ''
    else:
        proc = subprocess.run(netns(flow['netns'], ['python3', '-c', CLIENT, flow['addr'], str(flow['port'])]),
                              capture_output=True, text=True, check=False)
        ok, reply = proc.returncode == 0, proc.stdout.strip()
    results[flow['name']] = (ok, reply)


def main():
    with open(sys.argv[1]) as handle:
        spec = json.load(handle)
    listeners = []
    try:
        for item in spec.get('listeners', []):
            listeners.append(subprocess.Popen(netns(item['netns'], ['python3', '-c', SERVER, item['addr'],
                                                                    str(item['port']), item['label']])))
        deadline = time.time() + 10
        for item in spec.get('listeners', []):
            while subprocess.run(netns(item['netns'], ['python3', '-c', CLIENT, item['addr'], str(item['port'])]),
                                 capture_output=True, check=False).returncode != 0:
                if time.time() > deadline:
                    raise SystemExit('listener %s:%s did not come up' % (item['addr'], item['port']))
                time.sleep(0.1)
        results = {}
        threads = [threading.Thread(target=try_flow, args=(f, results)) for f in spec['flows']]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for proc in listeners:
            proc.kill()
            proc.wait()
    bad = 0
    for flow in spec['flows']:
        ok, reply = results[flow['name']]
        wrong = ok != flow['expect'] or (ok and flow.get('reply') is not None and reply != flow['reply'])
        bad += wrong
        print('%-4s %-44s %s%s' % ('FAIL' if wrong else 'ok', flow['name'], 'passed' if ok else 'blocked',
                                   (' (%s)' % reply) if ok and reply else ''))
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
