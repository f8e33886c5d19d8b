#!/usr/bin/env bash
# Sharded export of a cluster's backup from S3 to S3 with AWS Batch (see docs/sharding.md):
# an array job of N children (child K gets AWS_BATCH_JOB_ARRAY_INDEX=K and runs shard K of N),
# then a commit job that depends on the whole array job.
#
# Prerequisites: a compute environment and a job queue named "sstable-lake", an image of
# sstable-lake in a registry the compute environment can pull from, and the job role
# (jobRoleArn in the definitions) with read access to the backup prefix and write access to
# the destination prefix. Edit the JSON files (buckets, region, role, image, sizes) first.
set -euo pipefail
cd "$(dirname "$0")"

aws batch register-job-definition --cli-input-json file://job-definition.json
aws batch register-job-definition --cli-input-json file://commit-job-definition.json

# The array job: arrayProperties.size = N = the "shards" parameter.
ARRAY_JOB_ID=$(aws batch submit-job --cli-input-json file://submit-array-job.json \
    --query jobId --output text)
echo "array job: $ARRAY_JOB_ID"

# The commit depends on the array job's own (parent) id, with no type: it starts only when
# every child has succeeded, and goes FAILED without running if any child failed for good.
# (N_TO_N would pair the children of two array jobs index by index; SEQUENTIAL chains the
# children of one array job: neither waits for the whole array.)
sed "s/ARRAY_JOB_ID/$ARRAY_JOB_ID/" submit-commit-job.json > /tmp/submit-commit-job.json
COMMIT_JOB_ID=$(aws batch submit-job --cli-input-json file:///tmp/submit-commit-job.json \
    --query jobId --output text)
echo "commit job: $COMMIT_JOB_ID (runs after all children of $ARRAY_JOB_ID succeed)"

# Same with the CLI flags only:
#   aws batch submit-job --job-name export-cluster1 --job-queue sstable-lake \
#       --job-definition sstable-lake-export-shard --array-properties size=16 \
#       --parameters shards=16,splits=64
#   aws batch submit-job --job-name export-cluster1-commit --job-queue sstable-lake \
#       --job-definition sstable-lake-export-commit --depends-on jobId=$ARRAY_JOB_ID \
#       --parameters shards=16,splits=64
#
# If a child still failed after its retries (the array job and the commit are then FAILED),
# find it, re-run that shard alone as a plain job with an explicit --shard K/N, then submit
# the commit again, depending on the re-run(s):
#   aws batch list-jobs --array-job-id $ARRAY_JOB_ID --job-status FAILED \
#       --query 'jobSummaryList[].arrayProperties.index'
#   RERUN=$(aws batch submit-job --job-name export-cluster1-shard-7 --job-queue sstable-lake \
#       --job-definition sstable-lake-export-shard \
#       --container-overrides '{"command": ["export", "s3://my-backups/cluster1/snapshots/2024-06-01/",
#           "--out", "s3://my-lake/cassandra/cluster1", "--region", "eu-west-1",
#           "--shard", "7/16", "--splits", "64", "--threads", "4", "--now", "snapshot"]}' \
#       --query jobId --output text)
#   aws batch submit-job --job-name export-cluster1-commit --job-queue sstable-lake \
#       --job-definition sstable-lake-export-commit --depends-on jobId=$RERUN
