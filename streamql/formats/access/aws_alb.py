"""AWS Application Load Balancer access logs, as a compiled format (the ``alb`` preset).

One line per request, fields separated by spaces, some quoted, in the order
AWS documents. AWS adds fields at the end from time to time and asks readers
to ignore the ones they do not expect: text after the last field below is
kept in the ``extra`` field. Processing times are seconds (``-1`` when the
load balancer could not reach a target), ``-`` is None for every number.

>>> fmt = compile_alb()
>>> r = fmt.parse_line(EXAMPLE)
>>> r["elb_status"], r["sent_bytes"], r["target_processing_time"], r["method"], r["request"]
(200, 366, 0.001, 'GET', 'http://www.example.com:80/')
>>> r["time"].isoformat()
'2018-07-02T22:23:00.186641+00:00'
"""

from __future__ import annotations

from .format_fields import Directive, build
from .logformat import LogFormat

__all__ = ["compile_alb", "ALB_FIELDS", "EXAMPLE"]

# (field, kind, quoted, doc), in the order of the line.
ALB_FIELDS: tuple[tuple[str, str, bool, str], ...] = (
    ("type", "word", False, "the request's type: http, https, h2, grpcs, ws, wss"),
    ("time", "iso", False, "when the load balancer answered, timezone-aware (UTC)"),
    ("elb", "word", False, "the load balancer's resource id"),
    ("client", "word", False, "the client's ip:port"),
    ("target", "word", False, "the target's ip:port, or -"),
    ("request_processing_time", "number", False, "seconds until sent to a target, or -1"),
    ("target_processing_time", "number", False, "seconds the target took, or -1"),
    ("response_processing_time", "number", False, "seconds to send the response, or -1"),
    ("elb_status", "status", False, "the load balancer's status code"),
    ("target_status", "status", False, "the target's status code; None for -"),
    ("received_bytes", "int", False, "bytes received from the client"),
    ("sent_bytes", "int", False, "bytes sent to the client"),
    ("request", "request", True, ""),
    ("agent", "word", True, "the User-Agent header, as written"),
    ("ssl_cipher", "word", False, "the TLS cipher, or -"),
    ("ssl_protocol", "word", False, "the TLS protocol, or -"),
    ("target_group_arn", "word", False, "the target group's ARN"),
    ("trace_id", "word", True, "the X-Amzn-Trace-Id header"),
    ("domain_name", "word", True, "the SNI domain, or -"),
    ("chosen_cert_arn", "word", True, "the certificate's ARN, or -"),
    ("matched_rule_priority", "word", False, "the priority of the rule that matched, or -"),
    ("request_creation_time", "iso", False, "when the request arrived, timezone-aware (UTC)"),
    ("actions_executed", "word", True, "the actions taken, comma-separated"),
    ("redirect_url", "word", True, "the redirect target, or -"),
    ("error_reason", "word", True, "the error's reason code, or -"),
    ("target_port_list", "word", True, "the targets' ip:port, space-separated"),
    ("target_status_code_list", "word", True, "the targets' status codes"),
    ("classification", "word", True, "the desync classification, or -"),
    ("classification_reason", "word", True, "the classification's reason, or -"),
)

EXAMPLE = (
    "http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 "
    "192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "
    '"GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - '
    "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "
    '"Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z '
    '"forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234abcd'
)


def compile_alb(name: str = "alb") -> LogFormat:
    """Compile the ALB access-log format (later fields AWS adds: ``extra``)."""
    items: list[str | Directive] = []
    for i, (field, kind, quoted, doc) in enumerate(ALB_FIELDS):
        names = ("method", "request", "proto") if kind == "request" else (field,)
        directive = Directive(field, i, kind, names, str, doc)
        items += [" " if i else "", *(['"', directive, '"'] if quoted else [directive])]
    text = " ".join(f'"{f}"' if q else f for f, _, q, _ in ALB_FIELDS)
    return build(name, text, "alb", items, extra=True)
