#!/usr/bin/python3
"""intruder.py - another client of the broker (its own CURVE key, listed
among the clients) tries to take over a job it did not submit (issue 12,
attack 1): lists every job, asks the job's status, attaches to it,
acknowledges its results (0..20: without ownership the broker would
delete them unwritten), cancels it. Prints one line per attempt:
"<request> <answer>", the answer being the error code, or "jobs N" /
"progress" / "status" / "none" (no answer within 2 s).

usage: intruder.py ENDPOINT BROKER_CERT OWN_CERT JOB
(BROKER_CERT and OWN_CERT "-": without CURVE, and without the job's token)"""
import sys

import msgpack
import zmq
import zmq.auth


def main():
    endpoint, broker_cert, own_cert, job = sys.argv[1:5]
    context = zmq.Context()
    socket = context.socket(zmq.DEALER)
    if broker_cert != "-":
        server_public, _ = zmq.auth.load_certificate(broker_cert)
        public, secret = zmq.auth.load_certificate(own_cert + "_secret")
        socket.curve_serverkey = server_public
        socket.curve_publickey = public
        socket.curve_secretkey = secret
    socket.linger = 0
    socket.connect(endpoint)

    def ask(name, message):
        socket.send(msgpack.packb(dict(v=1, **message)))
        while socket.poll(2000):
            reply = msgpack.unpackb(socket.recv(), raw=False)
            cmd = reply.get("cmd")
            if cmd == "error":
                print(f"{name} {reply.get('code')}", flush=True)
                return
            if cmd == "status":
                mine = [j for j in reply.get("jobs", []) if j.get("job") == job]
                print(f"{name} jobs {len(reply.get('jobs', []))} target {len(mine)}", flush=True)
                return
            if cmd in ("progress", "result"):
                print(f"{name} {cmd}", flush=True)
                return
        print(f"{name} none", flush=True)

    ask("status-all", {"cmd": "status-request", "job": ""})
    ask("status-job", {"cmd": "status-request", "job": job})
    ask("attach", {"cmd": "attach", "job": job})
    ask("result-ack", {"cmd": "result-ack", "job": job, "seq": 20})
    ask("cancel", {"cmd": "cancel", "job": job})
    socket.close()
    context.term()


if __name__ == "__main__":
    main()
