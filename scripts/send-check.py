#!/usr/bin/python3
"""Sends a CheckTaskResult to TaskResults from Python: the raw MassTransit JSON envelope.

    send-check.py [--uri amqp://guest:guest@localhost:5672/] [--correlation-id UUID] JOB_ID TASK_TYPE

Needs pika (Debian: apt-get install python3-pika).
"""
import argparse
import json
import uuid

import pika

parser = argparse.ArgumentParser()
parser.add_argument("--uri", default="amqp://guest:guest@localhost:5672/")
parser.add_argument("--correlation-id", default=None)
parser.add_argument("job_id")
parser.add_argument("task_type")
args = parser.parse_args()

correlation_id = args.correlation_id or str(uuid.uuid4())
envelope = {
    "messageId": str(uuid.uuid4()),
    "correlationId": correlation_id,
    "conversationId": correlation_id,
    "messageType": ["urn:message:TaskResults.Contracts:CheckTaskResult"],
    "message": {"jobId": args.job_id, "taskType": args.task_type},
}

connection = pika.BlockingConnection(pika.URLParameters(args.uri))
channel = connection.channel()
channel.confirm_delivery()
channel.basic_publish(
    exchange="check-task-result",  # the service's queue has an exchange of the same name
    routing_key="",
    body=json.dumps(envelope),
    properties=pika.BasicProperties(content_type="application/vnd.masstransit+json", delivery_mode=2),
    mandatory=True,
)
connection.close()
print(f"sent CheckTaskResult {args.job_id} ({args.task_type}), correlationId {correlation_id}")
