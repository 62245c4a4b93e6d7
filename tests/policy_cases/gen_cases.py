# Regenerate with: python3 tests/policy_cases/gen_cases.py > tests/policy_cases/cases.json
# Generates tests/policy_cases/cases.json. Expected values are written by hand from the AWS IAM
# documentation (condition operators, policy variables, evaluation logic), one per case.
import json

A = "111122223333"   # principal's account
B = "444455556666"   # another account
USER = f"arn:aws:iam::{A}:user/alice"
ROLE = f"arn:aws:iam::{A}:role/app"
SESSION = f"arn:aws:sts::{A}:assumed-role/app/sess1"
XUSER = f"arn:aws:iam::{B}:user/bob"
OBJ = "arn:aws:s3:::docs-bucket/reports/q1.pdf"
MODEL = "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-v2"

cases = []

def pol(*stmts, version="2012-10-17"):
    d = {"Statement": list(stmts)}
    if version is not None:
        d = {"Version": version, "Statement": list(stmts)}
    return d

def allow(action="*", resource="*", **kw):
    s = {"Effect": "Allow", "Action": action, "Resource": resource}
    s.update(kw)
    return s

def deny(action="*", resource="*", **kw):
    s = {"Effect": "Deny", "Action": action, "Resource": resource}
    s.update(kw)
    return s

def case(name, expected, action="s3:GetObject", resource=OBJ, res_account=A, principal=USER,
         context=None, identity=None, **policies):
    req = {"action": action, "resource": {"resource": resource, "accountId": res_account},
           "principal": principal}
    if context is not None:
        req["context"] = context
    c = {"name": name, "expected": expected, "request": req,
         "identityPolicies": identity if identity is not None else []}
    c.update(policies)
    cases.append(c)

def cond_case(name, expected, op, key, values, context, version="2012-10-17", **kw):
    case(name, expected, context=context,
         identity=[pol(allow(Condition={op: {key: values}}), version=version)], **kw)

ALLOWED, IMPLICIT, EXPLICIT, ERROR = "Allowed", "ImplicitlyDenied", "ExplicitlyDenied", "Error"

# ---- Action matching ---------------------------------------------------------------------------
case("action/exact", ALLOWED, identity=[pol(allow("s3:GetObject"))])
case("action/case-insensitive-policy", ALLOWED, identity=[pol(allow("S3:getobject"))])
case("action/case-insensitive-request", ALLOWED, action="S3:GETOBJECT", identity=[pol(allow("s3:GetObject"))])
case("action/service-wildcard", ALLOWED, identity=[pol(allow("s3:*"))])
case("action/prefix-wildcard", ALLOWED, identity=[pol(allow("s3:Get*"))])
case("action/prefix-wildcard-miss", IMPLICIT, action="s3:PutObject", identity=[pol(allow("s3:Get*"))])
case("action/question-mark", ALLOWED, identity=[pol(allow("s3:GetObjec?"))])
case("action/question-mark-needs-one-char", IMPLICIT, identity=[pol(allow("s3:GetObject?"))])
case("action/star", ALLOWED, identity=[pol(allow("*"))])
case("action/other-service", IMPLICIT, identity=[pol(allow("ec2:*"))])
case("action/list-any", ALLOWED, identity=[pol(allow(["ec2:*", "s3:GetObject"]))])
case("action/middle-wildcard", ALLOWED, action="bedrock:InvokeModelWithResponseStream",
     resource=MODEL, identity=[pol(allow("bedrock:Invoke*Stream"))])
case("action/service-prefix-not-wildcarded", IMPLICIT, action="s3control:GetJob",
     identity=[pol(allow("s3:*"))])
case("notaction/allow-everything-else", ALLOWED, action="s3:GetObject",
     identity=[pol({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})])
case("notaction/allow-excludes-listed", IMPLICIT, action="iam:CreateUser", resource=f"arn:aws:iam::{A}:user/x",
     identity=[pol({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})])
case("notaction/deny-all-but-listed", EXPLICIT, action="ec2:RunInstances", resource="*",
     identity=[pol(allow("*"), {"Effect": "Deny", "NotAction": ["s3:*", "bedrock:*"], "Resource": "*"})])
case("notaction/deny-spares-listed", ALLOWED,
     identity=[pol(allow("*"), {"Effect": "Deny", "NotAction": ["s3:*", "bedrock:*"], "Resource": "*"})])
case("notaction/case-insensitive", IMPLICIT, action="IAM:ListUsers", resource="*",
     identity=[pol({"Effect": "Allow", "NotAction": "iam:list*", "Resource": "*"})])

# ---- Resource matching -------------------------------------------------------------------------
case("resource/exact", ALLOWED, identity=[pol(allow("s3:*", OBJ))])
case("resource/prefix-wildcard", ALLOWED, identity=[pol(allow("s3:*", "arn:aws:s3:::docs-bucket/*"))])
case("resource/bucket-arn-does-not-cover-objects", IMPLICIT, identity=[pol(allow("s3:*", "arn:aws:s3:::docs-bucket"))])
case("resource/case-sensitive", IMPLICIT, identity=[pol(allow("s3:*", "arn:aws:s3:::Docs-Bucket/*"))])
case("resource/star", ALLOWED, identity=[pol(allow("s3:*", "*"))])
case("resource/other-bucket", IMPLICIT, identity=[pol(allow("s3:*", "arn:aws:s3:::other/*"))])
case("resource/question-mark", ALLOWED, identity=[pol(allow("s3:*", "arn:aws:s3:::docs-bucket/reports/q?.pdf"))])
case("resource/region-wildcard", ALLOWED, action="bedrock:InvokeModel", resource=MODEL,
     identity=[pol(allow("bedrock:InvokeModel", "arn:aws:bedrock:*::foundation-model/*"))])
case("resource/region-mismatch", IMPLICIT, action="bedrock:InvokeModel", resource=MODEL,
     identity=[pol(allow("bedrock:InvokeModel", "arn:aws:bedrock:us-east-1::foundation-model/*"))])
case("resource/all-segments-wildcard", ALLOWED, action="bedrock:InvokeModel", resource=MODEL,
     identity=[pol(allow("bedrock:InvokeModel", "arn:aws:bedrock:*:*:*"))])
case("resource/wildcard-does-not-cross-segments", IMPLICIT, action="lambda:InvokeFunction",
     resource=f"arn:aws:lambda:us-east-1:999:{A}:function:f",
     identity=[pol(allow("lambda:*", f"arn:aws:lambda:*:{A}:function:f"))])
case("resource/last-segment-may-contain-colons", ALLOWED, action="lambda:InvokeFunction",
     resource=f"arn:aws:lambda:us-east-1:{A}:function:f:3",
     identity=[pol(allow("lambda:*", f"arn:aws:lambda:us-east-1:{A}:function:f:*"))])
case("resource/list-any", ALLOWED, identity=[pol(allow("s3:*", ["arn:aws:s3:::x/*", "arn:aws:s3:::docs-bucket/*"]))])
case("notresource/allow-other-resources", ALLOWED,
     identity=[pol({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"})])
case("notresource/allow-excludes-listed", IMPLICIT, resource="arn:aws:s3:::secret/a",
     identity=[pol({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"})])
case("notresource/deny-everything-but", EXPLICIT, resource="arn:aws:s3:::other/a",
     identity=[pol(allow("s3:*"), {"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::docs-bucket", "arn:aws:s3:::docs-bucket/*"]})])
case("notresource/deny-spares-listed", ALLOWED,
     identity=[pol(allow("s3:*"), {"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::docs-bucket", "arn:aws:s3:::docs-bucket/*"]})])

# ---- String operators --------------------------------------------------------------------------
T = "aws:PrincipalTag/team"
cond_case("StringEquals/match", ALLOWED, "StringEquals", T, "blue", {T: "blue"})
cond_case("StringEquals/case-sensitive", IMPLICIT, "StringEquals", T, "Blue", {T: "blue"})
cond_case("StringEquals/key-case-insensitive", ALLOWED, "StringEquals", "AWS:PRINCIPALTAG/TEAM", "blue", {T: "blue"})
cond_case("StringEquals/values-or", ALLOWED, "StringEquals", T, ["red", "blue"], {T: "blue"})
cond_case("StringEquals/no-wildcards", IMPLICIT, "StringEquals", T, "bl*", {T: "blue"})
cond_case("StringEquals/missing-key", IMPLICIT, "StringEquals", T, "blue", {})
cond_case("StringNotEquals/match", ALLOWED, "StringNotEquals", T, "red", {T: "blue"})
cond_case("StringNotEquals/equal", IMPLICIT, "StringNotEquals", T, "blue", {T: "blue"})
cond_case("StringNotEquals/values-and", IMPLICIT, "StringNotEquals", T, ["red", "blue"], {T: "blue"})
cond_case("StringNotEquals/missing-key-true", ALLOWED, "StringNotEquals", T, "blue", {})
cond_case("StringEqualsIgnoreCase/match", ALLOWED, "StringEqualsIgnoreCase", T, "BLUE", {T: "blue"})
cond_case("StringEqualsIgnoreCase/miss", IMPLICIT, "StringEqualsIgnoreCase", T, "BLUES", {T: "blue"})
cond_case("StringNotEqualsIgnoreCase/equal-other-case", IMPLICIT, "StringNotEqualsIgnoreCase", T, "Blue", {T: "blue"})
cond_case("StringNotEqualsIgnoreCase/different", ALLOWED, "StringNotEqualsIgnoreCase", T, "red", {T: "blue"})
cond_case("StringLike/star", ALLOWED, "StringLike", T, "bl*", {T: "blue"})
cond_case("StringLike/question", ALLOWED, "StringLike", T, "bl?e", {T: "blue"})
cond_case("StringLike/case-sensitive", IMPLICIT, "StringLike", T, "BL*", {T: "blue"})
cond_case("StringLike/needs-wildcard-for-partial", IMPLICIT, "StringLike", T, "blu", {T: "blue"})
cond_case("StringNotLike/match", IMPLICIT, "StringNotLike", T, "b*", {T: "blue"})
cond_case("StringNotLike/no-match", ALLOWED, "StringNotLike", T, ["r*", "g*"], {T: "blue"})
cond_case("StringNotLike/missing-key-true", ALLOWED, "StringNotLike", T, "b*", {})
cond_case("StringEqualsIfExists/missing", ALLOWED, "StringEqualsIfExists", T, "blue", {})
cond_case("StringEqualsIfExists/present-mismatch", IMPLICIT, "StringEqualsIfExists", T, "blue", {T: "red"})
cond_case("StringLikeIfExists/present-match", ALLOWED, "StringLikeIfExists", T, "r*", {T: "red"})
cond_case("StringNotEqualsIfExists/missing", ALLOWED, "StringNotEqualsIfExists", T, "blue", {})
cond_case("StringEquals/number-value", ALLOWED, "StringEquals", "s3:max-keys", 10, {"s3:max-keys": "10"})

# ---- Numeric operators -------------------------------------------------------------------------
K = "s3:max-keys"
for op, pv, rv, exp in [
    ("NumericEquals", "10", "10", ALLOWED), ("NumericEquals", "10", "11", IMPLICIT),
    ("NumericEquals", "10", "10.0", ALLOWED),
    ("NumericNotEquals", "10", "11", ALLOWED), ("NumericNotEquals", "10", "10", IMPLICIT),
    ("NumericLessThan", "10", "9", ALLOWED), ("NumericLessThan", "10", "10", IMPLICIT),
    ("NumericLessThanEquals", "10", "10", ALLOWED), ("NumericLessThanEquals", "10", "11", IMPLICIT),
    ("NumericGreaterThan", "10", "11", ALLOWED), ("NumericGreaterThan", "10", "10", IMPLICIT),
    ("NumericGreaterThanEquals", "10", "10", ALLOWED), ("NumericGreaterThanEquals", "10", "9.5", IMPLICIT),
    ("NumericLessThan", "1.5", "-3", ALLOWED),
]:
    cond_case(f"{op}/{pv}-vs-{rv}", exp, op, K, pv, {K: rv})
cond_case("NumericLessThan/missing", IMPLICIT, "NumericLessThan", K, "10", {})
cond_case("NumericNotEquals/missing-true", ALLOWED, "NumericNotEquals", K, "10", {})
cond_case("NumericLessThanIfExists/missing", ALLOWED, "NumericLessThanIfExists", K, "10", {})
cond_case("NumericLessThanIfExists/present-too-big", IMPLICIT, "NumericLessThanIfExists", K, "10", {K: "100"})
cond_case("NumericEquals/non-numeric-request", IMPLICIT, "NumericEquals", K, "10", {K: "ten"})
cond_case("NumericEquals/values-or", ALLOWED, "NumericEquals", K, ["5", "10"], {K: "5"})

# ---- Date operators ----------------------------------------------------------------------------
D = "aws:CurrentTime"
NOW = "2026-06-01T12:00:00Z"
for op, pv, exp in [
    ("DateEquals", "2026-06-01T12:00:00Z", ALLOWED), ("DateEquals", "2026-06-01T12:00:01Z", IMPLICIT),
    ("DateEquals", "2026-06-01T14:00:00+02:00", ALLOWED),
    ("DateNotEquals", "2026-06-01T12:00:01Z", ALLOWED), ("DateNotEquals", "2026-06-01T12:00:00Z", IMPLICIT),
    ("DateLessThan", "2026-12-31T23:59:59Z", ALLOWED), ("DateLessThan", "2026-01-01T00:00:00Z", IMPLICIT),
    ("DateLessThanEquals", "2026-06-01T12:00:00Z", ALLOWED), ("DateLessThanEquals", "2026-06-01T11:59:59Z", IMPLICIT),
    ("DateGreaterThan", "2026-01-01", ALLOWED), ("DateGreaterThan", "2027-01-01", IMPLICIT),
    ("DateGreaterThanEquals", "2026-06-01T12:00:00Z", ALLOWED), ("DateGreaterThanEquals", "2026-06-01T12:00:01Z", IMPLICIT),
    ("DateEquals", "1780315200", ALLOWED),
]:
    cond_case(f"{op}/{pv}", exp, op, D, pv, {D: NOW})
cond_case("DateLessThan/epoch-request-value", ALLOWED, "DateLessThan", "aws:EpochTime", "2026-06-01T12:00:01Z", {"aws:EpochTime": "1780315200"})
cond_case("DateLessThan/missing", IMPLICIT, "DateLessThan", D, "2030-01-01T00:00:00Z", {})
cond_case("DateNotEquals/missing-true", ALLOWED, "DateNotEquals", D, "2030-01-01T00:00:00Z", {})
cond_case("DateGreaterThanIfExists/missing", ALLOWED, "DateGreaterThanIfExists", D, "2030-01-01T00:00:00Z", {})

# ---- Bool, Binary ------------------------------------------------------------------------------
S = "aws:SecureTransport"
cond_case("Bool/true", ALLOWED, "Bool", S, "true", {S: "true"})
cond_case("Bool/false-vs-true", IMPLICIT, "Bool", S, "true", {S: "false"})
cond_case("Bool/json-boolean-value", ALLOWED, "Bool", S, True, {S: True})
cond_case("Bool/missing", IMPLICIT, "Bool", S, "true", {})
cond_case("BoolIfExists/missing", ALLOWED, "BoolIfExists", "aws:MultiFactorAuthPresent", "true", {})
cond_case("BoolIfExists/present-false", IMPLICIT, "BoolIfExists", "aws:MultiFactorAuthPresent", "true", {"aws:MultiFactorAuthPresent": "false"})
case("Bool/deny-insecure-transport", EXPLICIT, context={S: "false"},
     identity=[pol(allow("s3:*"), deny("s3:*", Condition={"Bool": {S: "false"}}))])
case("Bool/deny-insecure-transport-spares-tls", ALLOWED, context={S: "true"},
     identity=[pol(allow("s3:*"), deny("s3:*", Condition={"Bool": {S: "false"}}))])
case("BoolIfExists/mfa-deny-when-absent", EXPLICIT, context={},
     identity=[pol(allow("s3:*"), deny("s3:*", Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}))])
case("Bool/mfa-deny-without-ifexists-misses-absent-key", ALLOWED, context={},
     identity=[pol(allow("s3:*"), deny("s3:*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}}))])
cond_case("BinaryEquals/match", ALLOWED, "BinaryEquals", "key", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", {"key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="})
cond_case("BinaryEquals/mismatch", IMPLICIT, "BinaryEquals", "key", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", {"key": "T3RoZXI="})
cond_case("BinaryEquals/missing", IMPLICIT, "BinaryEquals", "key", "QmluYXJ5", {})
cond_case("BinaryEqualsIfExists/missing", ALLOWED, "BinaryEqualsIfExists", "key", "QmluYXJ5", {})

# ---- IP address --------------------------------------------------------------------------------
IP = "aws:SourceIp"
cond_case("IpAddress/in-block", ALLOWED, "IpAddress", IP, "203.0.113.0/24", {IP: "203.0.113.10"})
cond_case("IpAddress/outside", IMPLICIT, "IpAddress", IP, "203.0.113.0/24", {IP: "198.51.100.1"})
cond_case("IpAddress/single-address", ALLOWED, "IpAddress", IP, "203.0.113.10/32", {IP: "203.0.113.10"})
cond_case("IpAddress/list-or", ALLOWED, "IpAddress", IP, ["10.0.0.0/8", "203.0.113.0/24"], {IP: "10.1.2.3"})
cond_case("IpAddress/ipv6", ALLOWED, "IpAddress", IP, "2001:db8::/32", {IP: "2001:db8:1::5"})
cond_case("IpAddress/ipv6-outside", IMPLICIT, "IpAddress", IP, "2001:db8::/32", {IP: "2001:db9::5"})
cond_case("IpAddress/missing", IMPLICIT, "IpAddress", IP, "10.0.0.0/8", {})
cond_case("NotIpAddress/outside", ALLOWED, "NotIpAddress", IP, "10.0.0.0/8", {IP: "192.0.2.1"})
cond_case("NotIpAddress/inside", IMPLICIT, "NotIpAddress", IP, ["192.0.2.0/24", "10.0.0.0/8"], {IP: "10.9.9.9"})
cond_case("NotIpAddress/missing-true", ALLOWED, "NotIpAddress", IP, "10.0.0.0/8", {})
cond_case("IpAddressIfExists/missing", ALLOWED, "IpAddressIfExists", IP, "10.0.0.0/8", {})
case("NotIpAddress/deny-outside-corporate-range", EXPLICIT, context={IP: "198.51.100.7"},
     identity=[pol(allow("s3:*"), deny(Condition={"NotIpAddress": {IP: ["192.0.2.0/24", "203.0.113.0/24"]}}))])
case("NotIpAddress/deny-spares-corporate-range", ALLOWED, context={IP: "192.0.2.44"},
     identity=[pol(allow("s3:*"), deny(Condition={"NotIpAddress": {IP: ["192.0.2.0/24", "203.0.113.0/24"]}}))])

# ---- ARN operators -----------------------------------------------------------------------------
SA = "aws:SourceArn"
TOPIC = f"arn:aws:sns:us-east-1:{A}:alerts"
cond_case("ArnEquals/match", ALLOWED, "ArnEquals", SA, TOPIC, {SA: TOPIC})
cond_case("ArnEquals/mismatch", IMPLICIT, "ArnEquals", SA, f"arn:aws:sns:us-east-1:{A}:other", {SA: TOPIC})
cond_case("ArnEquals/wildcard-per-segment", ALLOWED, "ArnEquals", SA, f"arn:aws:sns:*:{A}:*", {SA: TOPIC})
cond_case("ArnLike/region-wildcard", ALLOWED, "ArnLike", SA, f"arn:aws:sns:*:{A}:alerts", {SA: TOPIC})
cond_case("ArnLike/account-mismatch", IMPLICIT, "ArnLike", SA, f"arn:aws:sns:*:{B}:*", {SA: TOPIC})
cond_case("ArnLike/wildcard-does-not-cross-segments", IMPLICIT, "ArnLike", SA, "arn:aws:sns:*:alerts:*",
          {SA: f"arn:aws:sns:us-east-1:{A}:x"})
cond_case("ArnLike/case-sensitive", IMPLICIT, "ArnLike", SA, f"arn:aws:SNS:*:{A}:*", {SA: TOPIC})
cond_case("ArnLike/not-an-arn", IMPLICIT, "ArnLike", SA, "arn:aws:sns:*:*:*", {SA: "alerts"})
cond_case("ArnNotEquals/different", ALLOWED, "ArnNotEquals", SA, f"arn:aws:sns:us-east-1:{A}:other", {SA: TOPIC})
cond_case("ArnNotEquals/same", IMPLICIT, "ArnNotEquals", SA, TOPIC, {SA: TOPIC})
cond_case("ArnNotLike/no-match", ALLOWED, "ArnNotLike", SA, "arn:aws:sqs:*:*:*", {SA: TOPIC})
cond_case("ArnNotLike/match", IMPLICIT, "ArnNotLike", SA, "arn:aws:sns:*:*:*", {SA: TOPIC})
cond_case("ArnNotLike/missing-true", ALLOWED, "ArnNotLike", SA, "arn:aws:sns:*:*:*", {})
cond_case("ArnLike/missing", IMPLICIT, "ArnLike", SA, "arn:aws:sns:*:*:*", {})
cond_case("ArnLikeIfExists/missing", ALLOWED, "ArnLikeIfExists", SA, "arn:aws:sns:*:*:*", {})
case("ArnNotEquals/deny-all-but-admin-role", EXPLICIT, principal=SESSION, context={"aws:PrincipalArn": ROLE},
     identity=[pol(allow("s3:*"), deny(Condition={"ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{A}:role/admin"}}))])

# ---- Null --------------------------------------------------------------------------------------
cond_case("Null/true-key-absent", ALLOWED, "Null", "aws:TokenIssueTime", "true", {})
cond_case("Null/true-key-present", IMPLICIT, "Null", "aws:TokenIssueTime", "true", {"aws:TokenIssueTime": "2026-01-01T00:00:00Z"})
cond_case("Null/false-key-present", ALLOWED, "Null", "aws:TokenIssueTime", "false", {"aws:TokenIssueTime": "2026-01-01T00:00:00Z"})
cond_case("Null/false-key-absent", IMPLICIT, "Null", "aws:TokenIssueTime", "false", {})
case("Null/deny-untagged-requests", EXPLICIT, context={},
     identity=[pol(allow(), deny("ec2:RunInstances", Condition={"Null": {"aws:RequestTag/CostCenter": "true"}}))],
     action="ec2:RunInstances", resource="*")

# ---- Set operators -----------------------------------------------------------------------------
TK = "aws:TagKeys"
cond_case("ForAllValues/subset", ALLOWED, "ForAllValues:StringEquals", TK, ["env", "team", "cost"], {TK: ["env", "team"]})
cond_case("ForAllValues/not-subset", IMPLICIT, "ForAllValues:StringEquals", TK, ["env", "team"], {TK: ["env", "owner"]})
cond_case("ForAllValues/missing-key-true", ALLOWED, "ForAllValues:StringEquals", TK, ["env"], {})
cond_case("ForAllValues/empty-set-true", ALLOWED, "ForAllValues:StringEquals", TK, ["env"], {TK: []})
cond_case("ForAllValues/single-value", ALLOWED, "ForAllValues:StringEquals", TK, ["env"], {TK: "env"})
cond_case("ForAllValues/StringLike", ALLOWED, "ForAllValues:StringLike", TK, ["env*", "team"], {TK: ["env-a", "env-b", "team"]})
cond_case("ForAllValues/StringLike-one-fails", IMPLICIT, "ForAllValues:StringLike", TK, ["env*"], {TK: ["env-a", "team"]})
cond_case("ForAllValues/case-sensitive-values", IMPLICIT, "ForAllValues:StringEquals", TK, ["env"], {TK: ["Env"]})
cond_case("ForAllValues/IgnoreCase", ALLOWED, "ForAllValues:StringEqualsIgnoreCase", TK, ["env"], {TK: ["Env", "ENV"]})
cond_case("ForAllValues/StringNotEquals-none-forbidden", ALLOWED, "ForAllValues:StringNotEquals", TK, ["secret"], {TK: ["env", "team"]})
cond_case("ForAllValues/StringNotEquals-one-forbidden", IMPLICIT, "ForAllValues:StringNotEquals", TK, ["secret"], {TK: ["env", "secret"]})
cond_case("ForAnyValue/one-matches", ALLOWED, "ForAnyValue:StringEquals", TK, ["team"], {TK: ["env", "team"]})
cond_case("ForAnyValue/none-match", IMPLICIT, "ForAnyValue:StringEquals", TK, ["owner"], {TK: ["env", "team"]})
cond_case("ForAnyValue/missing-key-false", IMPLICIT, "ForAnyValue:StringEquals", TK, ["env"], {})
cond_case("ForAnyValue/empty-set-false", IMPLICIT, "ForAnyValue:StringEquals", TK, ["env"], {TK: []})
cond_case("ForAnyValue/StringLike", ALLOWED, "ForAnyValue:StringLike", TK, ["cost*"], {TK: ["env", "costcenter"]})
cond_case("ForAnyValue/StringNotEquals-some-other", ALLOWED, "ForAnyValue:StringNotEquals", TK, ["env"], {TK: ["env", "team"]})
cond_case("ForAnyValue/StringNotEquals-all-equal", IMPLICIT, "ForAnyValue:StringNotEquals", TK, ["env"], {TK: ["env"]})
cond_case("ForAnyValue/IfExists-missing", ALLOWED, "ForAnyValue:StringEqualsIfExists", TK, ["env"], {})
cond_case("ForAnyValue/key-case-insensitive", ALLOWED, "ForAnyValue:StringEquals", "AWS:TAGKEYS", ["env"], {TK: ["env"]})
cond_case("ForAllValues/ArnLike", ALLOWED, "ForAllValues:ArnLike", "aws:SourceArns", [f"arn:aws:sns:*:{A}:*"],
          {"aws:SourceArns": [TOPIC, f"arn:aws:sns:eu-west-1:{A}:b"]})
cond_case("ForAnyValue/NumericGreaterThan", ALLOWED, "ForAnyValue:NumericGreaterThan", "svc:sizes", "100", {"svc:sizes": ["5", "500"]})
case("ForAllValues/allow-only-approved-tags-with-Null-guard", IMPLICIT, context={},
     identity=[pol(allow(Condition={"ForAllValues:StringEquals": {TK: ["env"]}, "Null": {TK: "false"}}))])
case("ForAnyValue/deny-if-any-forbidden-tag", EXPLICIT, context={TK: ["env", "secret"]},
     identity=[pol(allow(), deny(Condition={"ForAnyValue:StringEquals": {TK: ["secret"]}}))])

# ---- Multiple conditions: AND across keys and operators ----------------------------------------
two = {"StringEquals": {T: "blue", "aws:PrincipalTag/level": "5"}, "Bool": {S: "true"}}
case("conditions/and-all-true", ALLOWED, context={T: "blue", "aws:PrincipalTag/level": "5", S: "true"},
     identity=[pol(allow(Condition=two))])
case("conditions/and-one-key-false", IMPLICIT, context={T: "blue", "aws:PrincipalTag/level": "4", S: "true"},
     identity=[pol(allow(Condition=two))])
case("conditions/and-one-operator-false", IMPLICIT, context={T: "blue", "aws:PrincipalTag/level": "5", S: "false"},
     identity=[pol(allow(Condition=two))])
case("conditions/single-valued-operator-any-request-value", ALLOWED, context={T: ["red", "blue"]},
     identity=[pol(allow(Condition={"StringEquals": {T: "blue"}}))])

# ---- Policy variables --------------------------------------------------------------------------
HOME = "arn:aws:s3:::home/${aws:username}/*"
case("variables/resource-username", ALLOWED, resource="arn:aws:s3:::home/alice/notes.txt",
     context={"aws:username": "alice"}, identity=[pol(allow("s3:*", HOME))])
case("variables/resource-other-user", IMPLICIT, resource="arn:aws:s3:::home/bob/notes.txt",
     context={"aws:username": "alice"}, identity=[pol(allow("s3:*", HOME))])
case("variables/resource-missing-key", IMPLICIT, resource="arn:aws:s3:::home/alice/notes.txt",
     context={}, identity=[pol(allow("s3:*", HOME))])
case("variables/2008-version-is-literal", IMPLICIT, resource="arn:aws:s3:::home/alice/notes.txt",
     context={"aws:username": "alice"}, identity=[pol(allow("s3:*", HOME), version="2008-10-17")])
case("variables/2008-version-literal-text-matches", ALLOWED, resource="arn:aws:s3:::home/${aws:username}/x",
     context={"aws:username": "alice"}, identity=[pol(allow("s3:*", HOME), version="2008-10-17")])
case("variables/no-version-is-2008", IMPLICIT, resource="arn:aws:s3:::home/alice/notes.txt",
     context={"aws:username": "alice"}, identity=[pol(allow("s3:*", HOME), version=None)])
case("variables/default-value-used", ALLOWED, resource="arn:aws:s3:::home/shared/x",
     context={}, identity=[pol(allow("s3:*", "arn:aws:s3:::home/${aws:username, 'shared'}/*"))])
case("variables/default-value-ignored-when-present", IMPLICIT, resource="arn:aws:s3:::home/shared/x",
     context={"aws:username": "alice"}, identity=[pol(allow("s3:*", "arn:aws:s3:::home/${aws:username, 'shared'}/*"))])
case("variables/principal-tag-in-resource", ALLOWED, resource="arn:aws:s3:::teams/blue/x",
     context={T: "blue"}, identity=[pol(allow("s3:*", "arn:aws:s3:::teams/${aws:PrincipalTag/team}/*"))])
case("variables/star-escape-is-literal", IMPLICIT, resource="arn:aws:s3:::b/anything",
     identity=[pol(allow("s3:*", "arn:aws:s3:::b/${*}"))])
case("variables/star-escape-matches-star", ALLOWED, resource="arn:aws:s3:::b/*",
     identity=[pol(allow("s3:*", "arn:aws:s3:::b/${*}"))])
case("variables/dollar-and-question-escapes", ALLOWED, resource="arn:aws:s3:::b/$?",
     identity=[pol(allow("s3:*", "arn:aws:s3:::b/${$}${?}"))])
case("variables/value-is-literal-not-wildcard", IMPLICIT, resource="arn:aws:s3:::home/alice/x",
     context={"aws:username": "a*"}, identity=[pol(allow("s3:*", HOME))])
cond_case("variables/in-StringEquals", ALLOWED, "StringEquals", "s3:prefix", "home/${aws:username}/",
          {"s3:prefix": "home/alice/", "aws:username": "alice"})
cond_case("variables/in-StringLike", ALLOWED, "StringLike", "s3:prefix", "home/${aws:username}/*",
          {"s3:prefix": "home/alice/docs", "aws:username": "alice"})
cond_case("variables/in-StringLike-mismatch", IMPLICIT, "StringLike", "s3:prefix", "home/${aws:username}/*",
          {"s3:prefix": "home/bob/docs", "aws:username": "alice"})
cond_case("variables/in-ArnLike", ALLOWED, "ArnLike", SA, "arn:aws:sns:*:${aws:PrincipalAccount}:*", {SA: TOPIC})
cond_case("variables/principal-tag-matches-resource-tag", ALLOWED, "StringEquals", "aws:ResourceTag/team",
          "${aws:PrincipalTag/team}", {"aws:ResourceTag/team": "blue", T: "blue"})
cond_case("variables/principal-tag-differs-from-resource-tag", IMPLICIT, "StringEquals", "aws:ResourceTag/team",
          "${aws:PrincipalTag/team}", {"aws:ResourceTag/team": "red", T: "blue"})
cond_case("variables/condition-default", ALLOWED, "StringEquals", "aws:ResourceTag/team",
          "${aws:PrincipalTag/team, 'none'}", {"aws:ResourceTag/team": "none"})
cond_case("variables/2008-condition-literal", ALLOWED, "StringEquals", "s3:prefix", "${aws:username}",
          {"s3:prefix": "${aws:username}", "aws:username": "alice"}, version="2008-10-17")

# ---- Evaluation: identity, deny, boundaries, sessions ------------------------------------------
case("eval/no-policies-implicit-deny", IMPLICIT)
case("eval/identity-allow", ALLOWED, identity=[pol(allow("s3:GetObject"))])
case("eval/explicit-deny-overrides-allow", EXPLICIT, identity=[pol(allow()), pol(deny("s3:GetObject"))])
case("eval/deny-in-other-policy-only", EXPLICIT, identity=[pol(deny("s3:*"))])
case("eval/allow-across-multiple-policies", ALLOWED, identity=[pol(allow("ec2:*")), pol(allow("s3:Get*"))])
case("eval/deny-with-false-condition-is-ignored", ALLOWED, context={T: "blue"},
     identity=[pol(allow(), deny(Condition={"StringEquals": {T: "red"}}))])
BOUND_S3 = [pol(allow("s3:*"))]
case("boundary/allows", ALLOWED, identity=[pol(allow())], permissionBoundaries=BOUND_S3)
case("boundary/does-not-allow", IMPLICIT, action="ec2:RunInstances", resource="*",
     identity=[pol(allow())], permissionBoundaries=BOUND_S3)
case("boundary/does-not-grant-by-itself", IMPLICIT, identity=[], permissionBoundaries=BOUND_S3)
case("boundary/explicit-deny", EXPLICIT, identity=[pol(allow())],
     permissionBoundaries=[pol(allow(), deny("s3:GetObject"))])
case("boundary/identity-narrower", IMPLICIT, action="s3:PutObject",
     identity=[pol(allow("s3:GetObject"))], permissionBoundaries=BOUND_S3)
case("boundary/resource-policy-to-user-arn-not-limited", ALLOWED, action="s3:GetObject",
     identity=[], permissionBoundaries=[pol(allow("ec2:*"))],
     resourcePolicy=pol(allow("s3:GetObject", OBJ, Principal={"AWS": USER})))
case("boundary/resource-policy-to-role-arn-limited", IMPLICIT, principal=SESSION,
     identity=[], permissionBoundaries=[pol(allow("ec2:*"))],
     resourcePolicy=pol(allow("s3:GetObject", OBJ, Principal={"AWS": ROLE})))
case("boundary/resource-policy-to-role-arn-within-boundary", ALLOWED, principal=SESSION,
     identity=[], permissionBoundaries=BOUND_S3,
     resourcePolicy=pol(allow("s3:GetObject", OBJ, Principal={"AWS": ROLE})))
case("boundary/resource-policy-to-session-arn-not-limited", ALLOWED, principal=SESSION,
     identity=[], permissionBoundaries=[pol(allow("ec2:*"))],
     resourcePolicy=pol(allow("s3:GetObject", OBJ, Principal={"AWS": SESSION})))
case("boundary/deny-beats-resource-policy", EXPLICIT, identity=[],
     permissionBoundaries=[pol(deny("s3:*"))],
     resourcePolicy=pol(allow("s3:GetObject", OBJ, Principal={"AWS": USER})))
SESSION_S3GET = pol(allow("s3:GetObject"))
case("session/intersection-allows", ALLOWED, principal=SESSION, identity=[pol(allow())], sessionPolicy=SESSION_S3GET)
case("session/intersection-denies", IMPLICIT, principal=SESSION, action="s3:PutObject",
     identity=[pol(allow())], sessionPolicy=SESSION_S3GET)
case("session/does-not-grant-by-itself", IMPLICIT, principal=SESSION, identity=[], sessionPolicy=pol(allow()))
case("session/explicit-deny", EXPLICIT, principal=SESSION, identity=[pol(allow())],
     sessionPolicy=pol(allow(), deny("s3:GetObject")))
case("session/resource-policy-to-session-arn-not-limited", ALLOWED, principal=SESSION, identity=[],
     sessionPolicy=pol(allow("ec2:*")),
     resourcePolicy=pol(allow("s3:GetObject", OBJ, Principal={"AWS": SESSION})))
case("session/resource-policy-to-role-arn-limited", IMPLICIT, principal=SESSION, identity=[],
     sessionPolicy=pol(allow("ec2:*")),
     resourcePolicy=pol(allow("s3:GetObject", OBJ, Principal={"AWS": ROLE})))
case("session/resource-policy-to-role-arn-within-session", ALLOWED, principal=SESSION, identity=[],
     sessionPolicy=pol(allow("s3:*")),
     resourcePolicy=pol(allow("s3:GetObject", OBJ, Principal={"AWS": ROLE})))
case("session/boundary-and-session-all-allow", ALLOWED, principal=SESSION, identity=[pol(allow())],
     permissionBoundaries=BOUND_S3, sessionPolicy=SESSION_S3GET)
case("session/boundary-blocks-even-if-session-allows", IMPLICIT, principal=SESSION, action="ec2:RunInstances",
     resource="*", identity=[pol(allow())], permissionBoundaries=BOUND_S3, sessionPolicy=pol(allow()))

# ---- Resource-based policies, same and cross account -------------------------------------------
RP_USER = pol(allow("s3:GetObject", OBJ, Principal={"AWS": USER}))
case("resource/same-account-resource-policy-alone", ALLOWED, identity=[], resourcePolicy=RP_USER)
case("resource/same-account-identity-alone", ALLOWED, identity=[pol(allow("s3:*"))],
     resourcePolicy=pol(allow("s3:GetObject", OBJ, Principal={"AWS": f"arn:aws:iam::{A}:user/carol"})))
case("resource/same-account-neither", IMPLICIT, identity=[pol(allow("ec2:*"))],
     resourcePolicy=pol(allow("s3:GetObject", OBJ, Principal={"AWS": f"arn:aws:iam::{A}:user/carol"})))
case("resource/principal-star", ALLOWED, identity=[], resourcePolicy=pol(allow("s3:GetObject", OBJ, Principal="*")))
case("resource/principal-aws-star", ALLOWED, identity=[], resourcePolicy=pol(allow("s3:GetObject", OBJ, Principal={"AWS": "*"})))
case("resource/deny-in-resource-policy", EXPLICIT, identity=[pol(allow())],
     resourcePolicy=pol(deny("s3:*", "arn:aws:s3:::docs-bucket/*", Principal="*")))
case("resource/deny-with-condition-spares", ALLOWED, identity=[pol(allow())], context={S: "true"},
     resourcePolicy=pol(deny("s3:*", "arn:aws:s3:::docs-bucket/*", Principal="*", Condition={"Bool": {S: "false"}})))
case("resource/not-principal-deny-others", EXPLICIT, principal=f"arn:aws:iam::{A}:user/carol", identity=[pol(allow())],
     resourcePolicy=pol(allow("s3:*", "*", Principal="*"), {"Effect": "Deny", "NotPrincipal": {"AWS": USER}, "Action": "s3:*", "Resource": "*"}))
case("resource/not-principal-deny-spares-listed", ALLOWED, identity=[pol(allow())],
     resourcePolicy=pol({"Effect": "Deny", "NotPrincipal": {"AWS": USER}, "Action": "s3:*", "Resource": "*"}))
case("resource/principal-role-matches-session", ALLOWED, principal=SESSION, identity=[],
     resourcePolicy=pol(allow("s3:GetObject", OBJ, Principal={"AWS": ROLE})))
case("resource/principal-other-role", IMPLICIT, principal=SESSION, identity=[],
     resourcePolicy=pol(allow("s3:GetObject", OBJ, Principal={"AWS": f"arn:aws:iam::{A}:role/other"})))
case("resource/service-principal", ALLOWED, principal="cloudtrail.amazonaws.com", res_account=A, identity=[],
     action="s3:PutObject", resourcePolicy=pol(allow("s3:PutObject", "arn:aws:s3:::docs-bucket/*", Principal={"Service": "cloudtrail.amazonaws.com"})))
case("resource/service-principal-other-service", IMPLICIT, principal="config.amazonaws.com", res_account=A, identity=[],
     action="s3:PutObject", resourcePolicy=pol(allow("s3:PutObject", "arn:aws:s3:::docs-bucket/*", Principal={"Service": "cloudtrail.amazonaws.com"})))
case("resource/resource-mismatch", IMPLICIT, identity=[],
     resourcePolicy=pol(allow("s3:GetObject", "arn:aws:s3:::other/*", Principal={"AWS": USER})))
RP_XUSER = pol(allow("s3:GetObject", OBJ, Principal={"AWS": XUSER}))
RP_XACCT = pol(allow("s3:GetObject", OBJ, Principal={"AWS": B}))
case("cross-account/both-allow", ALLOWED, principal=XUSER, identity=[pol(allow("s3:GetObject"))], resourcePolicy=RP_XUSER)
case("cross-account/account-principal-and-identity", ALLOWED, principal=XUSER, identity=[pol(allow("s3:*"))], resourcePolicy=RP_XACCT)
case("cross-account/account-root-arn-principal", ALLOWED, principal=XUSER, identity=[pol(allow("s3:*"))],
     resourcePolicy=pol(allow("s3:GetObject", OBJ, Principal={"AWS": f"arn:aws:iam::{B}:root"})))
case("cross-account/resource-policy-only", IMPLICIT, principal=XUSER, identity=[], resourcePolicy=RP_XUSER)
case("cross-account/identity-only", IMPLICIT, principal=XUSER, identity=[pol(allow())])
case("cross-account/resource-policy-names-other-account", IMPLICIT, principal=XUSER, identity=[pol(allow())],
     resourcePolicy=pol(allow("s3:GetObject", OBJ, Principal={"AWS": "777788889999"})))
case("cross-account/boundary-applies", IMPLICIT, principal=XUSER, identity=[pol(allow())],
     permissionBoundaries=[pol(allow("ec2:*"))], resourcePolicy=RP_XUSER)
case("cross-account/resource-deny", EXPLICIT, principal=XUSER, identity=[pol(allow())],
     resourcePolicy=pol(allow("s3:*", "*", Principal={"AWS": B}), deny("s3:GetObject", OBJ, Principal={"AWS": XUSER})))
case("cross-account/principal-star-with-org-condition", ALLOWED, principal=XUSER, context={"aws:PrincipalOrgID": "o-abc123"},
     identity=[pol(allow())],
     resourcePolicy=pol(allow("s3:GetObject", OBJ, Principal="*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})))
case("cross-account/principal-star-outside-org", IMPLICIT, principal=XUSER, context={"aws:PrincipalOrgID": "o-zzz"},
     identity=[pol(allow())],
     resourcePolicy=pol(allow("s3:GetObject", OBJ, Principal="*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})))
case("same-account/account-principal-delegates-to-identity", ALLOWED, identity=[pol(allow("s3:*"))],
     resourcePolicy=pol(allow("s3:GetObject", OBJ, Principal={"AWS": A})))

# ---- Service control policies ------------------------------------------------------------------
FULL = pol(allow())
REGION_SCP = pol({"Sid": "DenyAllOutsideEU", "Effect": "Deny",
                  "NotAction": ["iam:*", "organizations:*", "sts:*", "support:*"], "Resource": "*",
                  "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}})
R = "aws:RequestedRegion"
case("scp/full-access-and-identity", ALLOWED, identity=[pol(allow())], serviceControlPolicies=[FULL])
case("scp/no-allow-in-scp", IMPLICIT, identity=[pol(allow())], serviceControlPolicies=[pol(allow("ec2:*"))])
case("scp/does-not-grant", IMPLICIT, identity=[], serviceControlPolicies=[FULL])
case("scp/deny", EXPLICIT, identity=[pol(allow())], serviceControlPolicies=[FULL, pol(deny("s3:GetObject"))])
case("scp/region-eu-west-1-allowed", ALLOWED, action="bedrock:InvokeModel", resource=MODEL, context={R: "eu-west-1"},
     identity=[pol(allow())], serviceControlPolicies=[FULL, REGION_SCP])
case("scp/region-us-east-1-denied", EXPLICIT, action="bedrock:InvokeModel", resource=MODEL.replace("eu-west-1", "us-east-1"),
     context={R: "us-east-1"}, identity=[pol(allow())], serviceControlPolicies=[FULL, REGION_SCP])
case("scp/region-eu-central-1-denied", EXPLICIT, context={R: "eu-central-1"},
     identity=[pol(allow())], serviceControlPolicies=[FULL, REGION_SCP])
case("scp/region-global-service-exempt", ALLOWED, action="iam:ListRoles", resource="*", context={R: "us-east-1"},
     identity=[pol(allow())], serviceControlPolicies=[FULL, REGION_SCP])
case("scp/region-missing-key-denied", EXPLICIT, context={},
     identity=[pol(allow())], serviceControlPolicies=[FULL, REGION_SCP])
case("scp/region-deny-only-scp-without-allow", IMPLICIT, context={R: "eu-west-1"},
     identity=[pol(allow())], serviceControlPolicies=[REGION_SCP])
case("scp/allow-list-scp", ALLOWED, action="bedrock:InvokeModel", resource=MODEL, identity=[pol(allow())],
     serviceControlPolicies=[pol(allow(["bedrock:*", "s3:*"]))])
case("scp/allow-list-scp-blocks-other", IMPLICIT, action="ec2:RunInstances", resource="*", identity=[pol(allow())],
     serviceControlPolicies=[pol(allow(["bedrock:*", "s3:*"]))])
case("scp/caps-resource-policy", IMPLICIT, identity=[], resourcePolicy=RP_USER,
     serviceControlPolicies=[pol(allow("ec2:*"))])
case("scp/deny-beats-resource-policy", EXPLICIT, identity=[], resourcePolicy=RP_USER,
     serviceControlPolicies=[FULL, pol(deny("s3:*"))])

# ---- Resource control policies -----------------------------------------------------------------
RCP_FULL = pol(allow("*", "*", Principal="*"))
RCP_ORG = pol({"Sid": "EnforceOrgIdentities", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
               "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"},
                             "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}})
case("rcp/full-access", ALLOWED, identity=[pol(allow())], resourceControlPolicies=[RCP_FULL])
case("rcp/deny-outside-org", EXPLICIT, principal=XUSER, context={"aws:PrincipalOrgID": "o-other", "aws:PrincipalIsAWSService": "false"},
     identity=[pol(allow())], resourcePolicy=RP_XUSER, resourceControlPolicies=[RCP_FULL, RCP_ORG])
case("rcp/inside-org-allowed", ALLOWED, principal=XUSER, context={"aws:PrincipalOrgID": "o-abc123", "aws:PrincipalIsAWSService": "false"},
     identity=[pol(allow())], resourcePolicy=RP_XUSER, resourceControlPolicies=[RCP_FULL, RCP_ORG])
case("rcp/no-allow", IMPLICIT, identity=[pol(allow())], resourceControlPolicies=[pol(allow("ec2:*", "*", Principal="*"))])
case("rcp/does-not-grant", IMPLICIT, identity=[], resourceControlPolicies=[RCP_FULL])

# ---- Endpoint policies -------------------------------------------------------------------------
EP_BEDROCK = pol(allow("bedrock:InvokeModel", "arn:aws:bedrock:*::foundation-model/anthropic.*", Principal="*"))
case("endpoint/allows", ALLOWED, action="bedrock:InvokeModel", resource=MODEL, identity=[pol(allow())], endpointPolicies=[EP_BEDROCK])
case("endpoint/does-not-allow-action", IMPLICIT, identity=[pol(allow())], endpointPolicies=[EP_BEDROCK])
case("endpoint/does-not-allow-model", IMPLICIT, action="bedrock:InvokeModel",
     resource="arn:aws:bedrock:eu-west-1::foundation-model/meta.llama3", identity=[pol(allow())], endpointPolicies=[EP_BEDROCK])
case("endpoint/does-not-grant", IMPLICIT, action="bedrock:InvokeModel", resource=MODEL, identity=[], endpointPolicies=[EP_BEDROCK])
case("endpoint/deny", EXPLICIT, action="bedrock:InvokeModel", resource=MODEL, identity=[pol(allow())],
     endpointPolicies=[pol(allow("*", "*", Principal="*"), deny("bedrock:InvokeModel", "*", Principal="*"))])
case("endpoint/principal-restricted", IMPLICIT, action="bedrock:InvokeModel", resource=MODEL, identity=[pol(allow())],
     endpointPolicies=[pol(allow("bedrock:*", "*", Principal={"AWS": f"arn:aws:iam::{A}:user/carol"}))])
case("endpoint/principal-account", ALLOWED, action="bedrock:InvokeModel", resource=MODEL, identity=[pol(allow())],
     endpointPolicies=[pol(allow("bedrock:*", "*", Principal={"AWS": A}))])
case("endpoint/condition-on-source-vpc", ALLOWED, action="bedrock:InvokeModel", resource=MODEL, context={"aws:SourceVpc": "vpc-1"},
     identity=[pol(allow())], endpointPolicies=[pol(allow("bedrock:*", "*", Principal="*", Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}}))])
case("endpoint/all-layers", ALLOWED, action="bedrock:InvokeModel", resource=MODEL, principal=SESSION, context={R: "eu-west-1"},
     identity=[pol(allow("bedrock:*"))], permissionBoundaries=[pol(allow("bedrock:Invoke*"))], sessionPolicy=pol(allow()),
     serviceControlPolicies=[FULL, REGION_SCP], endpointPolicies=[EP_BEDROCK])

# ---- Invalid policies --------------------------------------------------------------------------
case("error/lowercase-effect", ERROR, identity=[pol({"Effect": "allow", "Action": "*", "Resource": "*"})])
case("error/missing-action", ERROR, identity=[pol({"Effect": "Allow", "Resource": "*"})])
case("error/bad-version", ERROR, identity=[{"Version": "2020-01-01", "Statement": [allow()]}])
case("error/principal-in-identity-policy", ERROR, identity=[pol(allow(Principal="*"))])
case("error/resource-policy-without-principal", ERROR, identity=[], resourcePolicy=pol(allow()))
case("error/unknown-operator", ERROR, identity=[pol(allow(Condition={"StringMatches": {T: "x"}}))])
case("error/bad-numeric", ERROR, identity=[pol(allow(Condition={"NumericLessThan": {K: "many"}}))])
case("error/bad-cidr", ERROR, identity=[pol(allow(Condition={"IpAddress": {IP: "300.1.1.1/8"}}))])
case("error/bad-date", ERROR, identity=[pol(allow(Condition={"DateLessThan": {D: "next week"}}))])
case("error/statement-not-object", ERROR, identity=[{"Version": "2012-10-17", "Statement": ["Allow"]}])
case("error/resource-not-arn", ERROR, identity=[pol(allow("s3:*", "docs-bucket/*"))])
case("error/null-with-ifexists", ERROR, identity=[pol(allow(Condition={"NullIfExists": {T: "true"}}))])
case("error/both-resource-and-notresource", ERROR, identity=[pol({"Effect": "Allow", "Action": "*", "Resource": "*", "NotResource": "*"})])
case("error/partial-wildcard-principal", ERROR, identity=[],
     resourcePolicy=pol(allow("s3:*", "*", Principal={"AWS": f"arn:aws:iam::{A}:user/*"})))

names = [c["name"] for c in cases]
assert len(names) == len(set(names)), [n for n in names if names.count(n) > 1]
print(json.dumps(cases, indent=1))
import sys
print(len(cases), file=sys.stderr)
