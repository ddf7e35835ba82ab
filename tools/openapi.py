#!/usr/bin/env python3
# Writes docs/openapi/*.json, the OpenAPI 3.1 documents of the dialects and
# the admin API: run from the repository root after changing a face, then
# check with tests/e2e/openapi.test.js, which validates every response the
# suite sees against them.
import json, os
OUT = 'docs/openapi'
def dedupe(doc, named):
    keyed = {json.dumps(v, sort_keys=True): k for k, v in named.items()}
    def walk(v, top=False):
        if isinstance(v, dict):
            k = json.dumps(v, sort_keys=True)
            if not top and k in keyed:
                return {"$ref": "#/components/schemas/" + keyed[k]}
            return {a: walk(b) for a, b in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v
    out = walk(doc)
    out.setdefault("components", {})["schemas"] = {k: walk(v, True) for k, v in named.items()}
    return out

def write(name, doc, named=None):
    if named:
        comps = doc.get("components", {})
        doc = dedupe(doc, named)
        for k, v in comps.items():
            if k != "schemas":
                doc["components"][k] = v
    with open(os.path.join(OUT, name + '.json'), 'w') as f:
        json.dump(doc, f, indent=2)
        f.write('\n')

S = lambda **kw: {"type": "string", **kw}
NS = {"type": ["string", "null"]}
B = {"type": "boolean"}
I = {"type": "integer"}
T = {"type": ["string", "null"], "format": "date-time"}
def obj(props, required=None, extra=True):
    o = {"type": "object", "properties": props, "required": list(props) if required is None else required}
    if not extra: o["additionalProperties"] = False
    return o
def json_resp(desc, schema, headers=None):
    r = {"description": desc, "content": {"application/json": {"schema": schema}}}
    if headers: r["headers"] = headers
    return r
RETRY = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "string"}}}
# What the HTTP layer answers itself, on any path, before a face sees it.
HTTP_ERROR = obj({"error": obj({"code": S(), "description": S()})})
def http_layer(codes=("413", "414", "431", "503")):
    return {c: {"$ref": "#/components/responses/HttpLayer"} for c in codes}
HTTP_LAYER_RESP = {"description": "answered by the HTTP layer before the face: 404/405 (no route), 414 (target too long), 431 (too many header fields), 503 (stopping)", "content": {"application/json": {"schema": HTTP_ERROR}}}

def base(title, desc, servers_note):
    return {"openapi": "3.1.0", "info": {"title": title, "version": "0.1.0", "description": desc,
            "license": {"name": "see the repository"}},
            "servers": [{"url": "http://127.0.0.1:8080", "description": servers_note}]}

# ---------------------------------------------------------------- xsolla
x_err = obj({"error": obj({"code": {"type": ["string", "integer"]}, "description": S(), "details": {"type": "object"}})})
def x_errors(*codes):
    return {c: json_resp("an Xsolla error", {"anyOf": [x_err, HTTP_ERROR]}, RETRY if c == "429" else None) for c in codes}
projectId = {"name": "projectId", "in": "query", "required": False, "schema": S(format="uuid"), "description": "the project's UUID"}
pre = {"options": {"summary": "CORS preflight", "parameters": [projectId], "responses": {"204": {"description": "allowed or not, by the Access-Control headers"}, **x_errors("400", "404")}}}
x_paths = {}
for prefix in ("", "/api"):
    x_paths[prefix + "/password/reset/request"] = {
        "post": {"summary": "request a reset link by mail", "parameters": [projectId, {"name": "login_url", "in": "query", "required": False, "schema": S()}],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": obj({"username": S()}, required=["username"])}}},
                 "responses": {"204": {"description": "accepted; the same whether or not the account exists"}, **x_errors("400", "403", "404", "413", "415", "422", "429", "500", "503")}},
        **pre}
    x_paths[prefix + "/password/reset/confirm"] = {
        "post": {"summary": "set a new password with the reset code", "parameters": [projectId],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": obj({"new_password": S(), "reset_code": S(), "user_id": S()}, required=["new_password", "reset_code"])}}},
                 "responses": {"204": {"description": "the password is changed"}, **x_errors("400", "401", "403", "404", "410", "413", "415", "422", "429", "500", "503")}},
        **pre}
    x_paths[prefix + "/login"] = {
        "post": {"summary": "sign in", "parameters": [projectId, {"name": "login_url", "in": "query", "required": False, "schema": S()}],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": obj({"username": S(), "password": S()}, required=["username", "password"])}}},
                 "responses": {"200": json_resp("a session token, or a login URL carrying it", {"anyOf": [obj({"token": S()}), obj({"login_url": S()})]}),
                               **x_errors("400", "401", "403", "404", "413", "415", "422", "429", "500", "503")}},
        **pre}
    x_paths[prefix + "/users/me"] = {
        "get": {"summary": "the signed-in user", "parameters": [projectId],
                "responses": {"200": json_resp("the user", obj({"id": S(), "username": NS, "email": S(), "name": {"type": "null"}, "first_name": NS, "last_name": NS,
                                                                  "registered": T, "last_login": T, "email_confirmed": B, "xsolla_login_project_id": S()})),
                              **x_errors("400", "401", "403", "404", "422", "429", "500", "503")}},
        **pre}
xs = base("resetd: Xsolla Login dialect", "The subset of Xsolla Login's API resetd answers, at the root and under /api. Errors are Xsolla's envelope; what the HTTP layer answers before the dialect has its own shape.", "the public listener")
xs["paths"] = x_paths
xs["components"] = {"responses": {"HttpLayer": HTTP_LAYER_RESP}}
write("xsolla", xs, {"XsollaErrorOrHttp": {"anyOf": [x_err, HTTP_ERROR]}, "HttpError": HTTP_ERROR})

# ---------------------------------------------------------------- workos
w_err = {"anyOf": [obj({"code": S(), "message": S()}, required=["code", "message"]),
                   obj({"error": S(), "error_description": S()}), HTTP_ERROR]}
def w_errors(*codes):
    return {c: json_resp("a WorkOS error", w_err, RETRY if c == "429" else None) for c in codes}
user = obj({"object": {"const": "user"}, "id": S(pattern="^user_"), "email": S(), "email_verified": B, "first_name": NS, "last_name": NS,
            "name": {"type": "null"}, "profile_picture_url": {"type": "null"}, "last_sign_in_at": T, "locale": NS, "external_id": {"type": "null"},
            "metadata": {"type": "object"}, "created_at": T, "updated_at": T})
reset = obj({"object": {"const": "password_reset"}, "id": S(pattern="^password_reset_"), "user_id": S(pattern="^user_"), "email": S(),
             "password_reset_token": S(), "password_reset_url": S(), "expires_at": T, "created_at": T})
bearer = [{"apiKey": []}]
W_ALL = ("400", "401", "404", "405", "409", "413", "415", "422", "429", "500", "503")
other = {m: {"summary": "any other method: 405", "responses": w_errors("405")} for m in ("put", "delete", "patch")}
w_paths = {
 "/user_management/password_reset": {"post": {"summary": "create a password reset", "security": bearer,
    "requestBody": {"content": {"application/json": {"schema": obj({"email": S()}, required=["email"])}}},
    "responses": {"201": json_resp("the reset", reset), **w_errors(*W_ALL)}}, "get": {"responses": w_errors("405")}},
 "/user_management/password_reset/send": {"post": {"summary": "send a reset email", "security": bearer,
    "requestBody": {"content": {"application/json": {"schema": obj({"email": S(), "password_reset_url": S()}, required=["email"])}}},
    "responses": {"200": json_resp("sent", {"type": "object"}), **w_errors(*W_ALL)}}, "get": {"responses": w_errors("405")}},
 "/user_management/password_reset/confirm": {"post": {"summary": "reset the password", "security": bearer,
    "requestBody": {"content": {"application/json": {"schema": obj({"token": S(), "new_password": S()}, required=["token", "new_password"])}}},
    "responses": {"200": json_resp("the user", obj({"user": user})), **w_errors(*W_ALL)}}, "get": {"responses": w_errors("405")}},
 "/user_management/password_reset/{id}": {"parameters": [{"name": "id", "in": "path", "required": True, "schema": S()}],
    "get": {"summary": "a password reset", "security": bearer, "responses": {"200": json_resp("the reset", reset), **w_errors(*W_ALL)}}, "post": {"responses": w_errors("405")}},
 "/user_management/users": {"post": {"summary": "create a user", "security": bearer,
    "requestBody": {"content": {"application/json": {"schema": obj({"email": S(), "password": S(), "first_name": S(), "last_name": S(), "email_verified": B}, required=["email"])}}},
    "responses": {"201": json_resp("the user", user), **w_errors(*W_ALL)}},
    "get": {"summary": "list users, newest first unless order=asc; list_metadata.after is an opaque cursor", "security": bearer,
            "parameters": [{"name": n, "in": "query", "required": False, "schema": S()} for n in ("email", "limit", "after", "before", "order", "organization_id")],
            "responses": {"200": json_resp("a page of users", obj({"object": {"const": "list"}, "data": {"type": "array", "items": user},
                                                                     "list_metadata": obj({"before": {"type": "null"}, "after": NS}, required=["before", "after"])},
                                                                    required=["object", "data", "list_metadata"])),
                          **w_errors(*W_ALL)}}},
 "/user_management/users/{id}": {"parameters": [{"name": "id", "in": "path", "required": True, "schema": S()}],
    "get": {"summary": "a user", "security": bearer, "responses": {"200": json_resp("the user", user), **w_errors(*W_ALL)}},
    "put": {"summary": "update a user's names, email_verified or password", "security": bearer,
            "requestBody": {"content": {"application/json": {"schema": obj({"first_name": NS, "last_name": NS, "email_verified": B, "password": S()})}}},
            "responses": {"200": json_resp("the user", user), **w_errors(*W_ALL)}},
    "delete": {"summary": "delete a user, its sessions and resets", "security": bearer,
               "responses": {"204": {"description": "deleted"}, **w_errors(*W_ALL)}},
    "post": {"responses": w_errors("405")}},
 "/user_management/authenticate": {"post": {"summary": "sign in with a password",
    "requestBody": {"content": {"application/json": {"schema": obj({"client_id": S(), "client_secret": S(), "grant_type": S(), "email": S(), "password": S()}, required=["grant_type"])}}},
    "responses": {"200": json_resp("a session", obj({"user": user, "organization_id": {"type": "null"}, "access_token": S(), "refresh_token": S(), "authentication_method": S()},
                                       required=["user", "access_token", "refresh_token"])),
                  **w_errors(*W_ALL)}}, "get": {"responses": w_errors("405")}},
}
w_paths["/user_management/users/{id}/sessions"] = {"parameters": [{"name": "id", "in": "path", "required": True, "schema": S()}],
    "get": {"summary": "a user's sessions", "security": bearer,
            "responses": {"200": json_resp("a list", obj({"object": {"const": "list"}, "data": {"type": "array", "items": {"type": "object"}}, "list_metadata": {"type": "object"}}, required=["data"])),
                          **w_errors(*W_ALL)}}}
w_paths["/user_management/sessions/revoke"] = {"post": {"summary": "revoke a session", "security": bearer,
    "requestBody": {"content": {"application/json": {"schema": obj({"session_id": S()}, required=["session_id"])}}},
    "responses": {"200": json_resp("revoked", {"type": "object"}), **w_errors(*W_ALL)}}}
w_paths["/user_management/sessions/logout"] = {"get": {"summary": "end a session; with return_to, redirect there",
    "parameters": [{"name": "session_id", "in": "query", "required": False, "schema": S()}, {"name": "return_to", "in": "query", "required": False, "schema": S()}],
    "responses": {"200": json_resp("ended", {"type": "object"}), "302": json_resp("ended; Location is return_to", {"type": "object"}), **w_errors(*W_ALL)}}}
w_paths["/sso/jwks/{client_id}"] = {"parameters": [{"name": "client_id", "in": "path", "required": True, "schema": S()}],
    "get": {"summary": "the key set that verifies the client's access tokens",
            "responses": {"200": json_resp("a JWK set", obj({"keys": {"type": "array", "items": {"type": "object"}}})), **w_errors(*W_ALL)}}}
wo = base("resetd: WorkOS User Management dialect", "The password-reset, user and password-authentication calls of WorkOS User Management that resetd answers. Server calls carry an API key as a bearer token.", "the public listener")
wo["paths"] = w_paths
wo["components"] = {"securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer", "description": "an sk_ API key (resetd apikey create)"}}, "responses": {"HttpLayer": HTTP_LAYER_RESP}}
write("workos", wo, {"WorkosError": w_err, "User": user, "PasswordReset": reset, "HttpError": HTTP_ERROR})

# ---------------------------------------------------------------- cognito
c_err = obj({"__type": S(), "message": S()}, required=["__type"])
AMZ = "application/x-amz-json-1.1"
def c_resp(desc, schema):
    return {"description": desc, "content": {AMZ: {"schema": schema}, "application/json": {"schema": schema}}}
c_ok = {"anyOf": [obj({"CodeDeliveryDetails": obj({"Destination": S(), "DeliveryMedium": S(), "AttributeName": S()})}),
                  obj({}, required=[])]}
co = base("resetd: AWS Cognito user pools dialect", "Cognito's JSON protocol: one endpoint, POST /, the operation named by X-Amz-Target (AWSCognitoIdentityProviderService. followed by ForgotPassword, ConfirmForgotPassword, InitiateAuth, RespondToAuthChallenge, GetUser, ChangePassword, GlobalSignOut or RevokeToken). OpenAPI cannot tell operations apart by a header, so their answers are listed together: where the code went (ForgotPassword), or the operation's own object.", "the public listener")
co["paths"] = {"/": {
  "post": {"summary": "the operation X-Amz-Target names",
           "parameters": [{"name": "X-Amz-Target", "in": "header", "required": True, "schema": S(pattern="^AWSCognitoIdentityProviderService\\.")}],
           "requestBody": {"content": {AMZ: {"schema": obj({"ClientId": S()}, required=["ClientId"])}}},
           "responses": {"200": c_resp("ForgotPassword: where the code went; the others: their own object ({} for ConfirmForgotPassword)", c_ok),
                         **{c: c_resp("a Cognito exception", {"anyOf": [c_err, HTTP_ERROR]}) for c in ("400", "403", "404", "413", "415", "429", "500", "503")}}},
  "options": {"summary": "CORS preflight", "responses": {"204": {"description": "allowed or not, by the Access-Control headers"}, "200": {"description": "preflight"}}}}}
co["components"] = {"responses": {"HttpLayer": HTTP_LAYER_RESP}}
write("cognito", co, {"CognitoErrorOrHttp": {"anyOf": [c_err, HTTP_ERROR]}, "HttpError": HTTP_ERROR})

# ---------------------------------------------------------------- velocity
v_err = obj({"error": obj({"code": S(), "message": S()})})
def v_errors(*codes):
    return {c: json_resp("an exception in Velocity's envelope", {"anyOf": [v_err, HTTP_ERROR]}, RETRY if c == "429" else None) for c in codes}
hdrs = [{"name": "userpoolid", "in": "header", "required": True, "schema": S()}, {"name": "appclientid", "in": "header", "required": True, "schema": S()}]
ve = base("resetd: Velocity dialect", "Nelnet Velocity's REST wrapper over Cognito, at the root and under /authapi.", "the public listener")
ve["paths"] = {}
for prefix in ("", "/authapi"):
    ve["paths"][prefix + "/password/forgot"] = {"post": {"summary": "send a reset code", "parameters": hdrs,
        "requestBody": {"content": {"application/json": {"schema": obj({"username": S()}, required=["username"])}}},
        "responses": {"200": json_resp("where the code went", obj({"data": obj({"userName": S(), "codeDeliveryDetails": obj({"destination": S(), "deliveryMedium": S(), "attributeName": S()})})})),
                      **v_errors("400", "403", "404", "413", "415", "429", "500", "503")}}}
    ve["paths"][prefix + "/password/forgot/confirm"] = {"post": {"summary": "set a new password with the code", "parameters": hdrs,
        "requestBody": {"content": {"application/json": {"schema": obj({"username": S(), "code": S(), "password": S()}, required=["username"])}}},
        "responses": {"200": json_resp("changed", obj({"data": obj({"userName": S(), "passwordChanged": B})})),
                      **v_errors("400", "403", "404", "413", "415", "429", "500", "503")}}}
ve["components"] = {"responses": {"HttpLayer": HTTP_LAYER_RESP}}
write("velocity", ve, {"VelocityErrorOrHttp": {"anyOf": [v_err, HTTP_ERROR]}, "HttpError": HTTP_ERROR})

# ---------------------------------------------------------------- admin
a_err = obj({"error": obj({"code": S(), "message": S(), "field": S()}, required=["code", "message"])})
def a_errors(*codes):
    return {c: json_resp("an admin error", {"anyOf": [a_err, HTTP_ERROR]}, RETRY if c == "429" else None) for c in codes}
ERR_STD = ("400", "401", "404", "413", "415", "429", "503")
LT = {"type": "array", "items": S()}
project = obj({"id": S(format="uuid"), "name": S(), "callback_urls": LT, "allowed_origins": LT, "reset_url": NS, "token_ttl": I, "delivery": {"enum": ["link", "code"]},
               "send_reset_emails": B, "created_at": T, "mail_from": NS, "mail_from_name": NS, "locale": NS, "unknown_account_notice": B, "logo_url": NS,
               "accent_color": NS, "reset_limit_per_hour": I, "mail_budget_per_hour": I, "password_min_length": I, "password_min_score": I,
               "notice_limit_per_hour": I, "notice_share_percent": I, "login_token_ttl": I,
               "allow_private_targets": B, "user_storage": {"enum": ["builtin", "webhook"]}, "storage_lookup_url": NS, "storage_verify_url": NS,
               "storage_password_url": NS, "storage_new_user_url": NS, "storage_password_format": {"enum": ["plain", "argon2id"]}, "storage_timeout_ms": I})
project_in_props = {"name": S(), "callback_urls": LT, "allowed_origins": LT, "reset_url": NS, "token_ttl": {"type": ["integer", "null"]}, "send_reset_emails": B,
                    "delivery": {"enum": ["link", "code"]}, "mail_from": NS, "mail_from_name": NS, "locale": NS, "unknown_account_notice": B, "logo_url": NS,
                    "accent_color": NS, "reset_limit_per_hour": {"type": ["integer", "null"]}, "mail_budget_per_hour": {"type": ["integer", "null"]},
                    "notice_limit_per_hour": {"type": ["integer", "null"]}, "notice_share_percent": {"type": ["integer", "null"]},
                    "password_min_length": {"type": ["integer", "null"]}, "password_min_score": {"type": ["integer", "null"]},
                    "password_policy": {"enum": ["nist", "cognito", "xsolla", None]}, "password_lists": {"type": ["boolean", "null"]},
                    "password_score": {"type": ["boolean", "null"]}, "password_require": NS,
                    "login_token_ttl": {"type": ["integer", "null"]},
                    "allow_private_targets": {"type": ["boolean", "null"]}, "user_storage": {"enum": ["builtin", "webhook", None]},
                    "storage_lookup_url": NS, "storage_verify_url": NS, "storage_password_url": NS, "storage_new_user_url": NS,
                    "storage_password_format": {"enum": ["plain", "argon2id", None]}, "storage_timeout_ms": {"type": ["integer", "null"]}}
a_user = obj({"id": S(format="uuid"), "project_id": S(format="uuid"), "email": S(), "username": NS, "email_verified": B, "disabled": B, "first_name": NS,
              "last_name": NS, "locale": NS, "created_at": T, "updated_at": T, "last_sign_in_at": T})
user_in = {"email": S(), "username": NS, "password": NS, "first_name": NS, "last_name": NS, "email_verified": B, "locale": NS}
key = obj({"id": S(format="uuid"), "project_id": S(format="uuid"), "created_at": T, "revoked_at": T})
client = obj({"project_id": S(format="uuid"), "client_id": S(pattern="^client_"), "prevent_user_existence_errors": B, "client_secret": S()},
             required=["project_id", "client_id", "prevent_user_existence_errors"])
outbox = obj({"id": S(format="uuid"), "project_id": S(format="uuid"), "kind": S(), "to": S(), "locale": NS, "state": {"enum": ["pending", "sent", "dead", "dropped"]},
              "tries": I, "next_try_at": T, "last_error": NS, "created_at": T, "sent_at": T})
audit = obj({"id": S(format="uuid"), "project_id": NS, "created_at": T, "event": S(), "client_ip": NS, "user_agent": NS, "subject": NS, "detail": NS})
def data(item, cursor=False):
    p = {"data": {"type": "array", "items": item}}
    if cursor: p["next_cursor"] = NS
    return obj(p)
def body(props, required=None, optional=False):
    return {"required": not optional, "content": {"application/json": {"schema": obj(props, required or [], extra=False)}}}
pid = {"name": "id", "in": "path", "required": True, "schema": S()}
q = lambda name, schema, desc="": {"name": name, "in": "query", "required": False, "schema": schema, "description": desc}
actor = body({"requested_by": S(pattern="^[A-Za-z0-9._@:-]{1,64}$")}, optional=True)
empty = body({}, optional=True)
ad = base("resetd admin API", "The admin API and the metrics, served only on the admin listener (admin_listen) and only with the bearer token; see docs/admin.md. Unknown fields are refused with 400 naming the field.", "the admin listener")
ad["servers"] = [{"url": "http://127.0.0.1:8081", "description": "the admin listener"}]
ad["security"] = [{"token": []}]
ad["paths"] = {
 "/metrics": {"get": {"summary": "Prometheus text format 0.0.4", "responses": {"200": {"description": "the metrics", "content": {"text/plain": {"schema": S()}}}, **a_errors("401", "429", "500")}}},
 "/openapi/{name}": {"get": {"summary": "an OpenAPI document: xsolla, workos, cognito, velocity or admin (.json)", "parameters": [{"name": "name", "in": "path", "required": True, "schema": S()}],
     "responses": {"200": json_resp("the document", {"type": "object"}), **a_errors("401", "404", "429")}}},
 "/admin/projects": {
   "get": {"summary": "every project", "responses": {"200": json_resp("projects", data(project)), **a_errors(*ERR_STD)}},
   "post": {"summary": "create a project", "requestBody": body(project_in_props, ["name"]), "responses": {"201": json_resp("the project", project), **a_errors(*ERR_STD)}}},
 "/admin/projects/{id}": {"parameters": [pid],
   "get": {"summary": "a project", "responses": {"200": json_resp("the project", project), **a_errors(*ERR_STD)}},
   "patch": {"summary": "change the named settings", "requestBody": body(project_in_props), "responses": {"200": json_resp("the project", project), **a_errors(*ERR_STD)}}},
 "/admin/projects/{id}/users": {"parameters": [pid],
   "get": {"summary": "a page of users", "parameters": [q("email", S()), q("limit", {"type": "string", "pattern": "^[0-9]+$"}), q("cursor", S())],
           "responses": {"200": json_resp("users", data(a_user, True)), **a_errors(*ERR_STD)}},
   "post": {"summary": "create a user", "requestBody": body(user_in, ["email"]), "responses": {"201": json_resp("the user", a_user), **a_errors(*ERR_STD, "409")}}},
 "/admin/projects/{id}/users/import": {"parameters": [pid],
   "post": {"summary": "import users, all or none", "requestBody": body({"users": {"type": "array", "minItems": 1, "maxItems": 1000, "items": obj({**user_in, "password_hash": NS}, ["email"], extra=False)}}, ["users"]),
            "responses": {"201": json_resp("imported", obj({"project_id": S(), "imported": I})), **a_errors(*ERR_STD, "409")}}},
 "/admin/projects/{id}/api-keys": {"parameters": [pid],
   "get": {"summary": "the project's keys", "responses": {"200": json_resp("keys", data(key)), **a_errors(*ERR_STD)}},
   "post": {"summary": "a new key, shown once", "requestBody": empty, "responses": {"201": json_resp("the key", obj({"id": S(), "project_id": S(), "key": S(pattern="^sk_")})), **a_errors(*ERR_STD)}}},
 "/admin/projects/{id}/clients": {"parameters": [pid],
   "post": {"summary": "a new app client", "requestBody": body({"secret": B, "reveal_user_existence": B}, optional=True), "responses": {"201": json_resp("the client", client), **a_errors(*ERR_STD)}}},
 "/admin/users/{id}": {"parameters": [pid],
   "get": {"summary": "a user", "responses": {"200": json_resp("the user", a_user), **a_errors(*ERR_STD)}},
   "patch": {"summary": "change names, email_verified or the password (the project's policy)",
             "requestBody": {"content": {"application/json": {"schema": obj({"first_name": NS, "last_name": NS, "email_verified": B, "password": S()})}}},
             "responses": {"200": json_resp("the user", a_user), **a_errors(*ERR_STD)}},
   "delete": {"summary": "delete a user", "requestBody": actor, "responses": {"204": {"description": "deleted"}, **a_errors(*ERR_STD)}}},
 "/admin/users/{id}/disable": {"parameters": [pid], "post": {"summary": "disable", "requestBody": empty, "responses": {"200": json_resp("the user", a_user), **a_errors(*ERR_STD)}}},
 "/admin/users/{id}/enable": {"parameters": [pid], "post": {"summary": "enable", "requestBody": empty, "responses": {"200": json_resp("the user", a_user), **a_errors(*ERR_STD)}}},
 "/admin/users/{id}/reset": {"parameters": [pid], "post": {"summary": "mail the user a reset link", "requestBody": actor,
     "responses": {"202": json_resp("mailed", obj({"user_id": S(), "status": {"const": "mailed"}})), **a_errors(*ERR_STD, "409")}}},
 "/admin/api-keys/{id}/revoke": {"parameters": [pid], "post": {"summary": "revoke a key", "requestBody": empty, "responses": {"200": json_resp("the key", key), **a_errors(*ERR_STD)}}},
 "/admin/clients/{id}/rotate-secret": {"parameters": [pid], "post": {"summary": "a new client secret, shown once", "requestBody": empty, "responses": {"200": json_resp("the client", client), **a_errors(*ERR_STD, "409")}}},
 "/admin/outbox": {"get": {"summary": "outbox messages, without payloads", "parameters": [q("state", {"enum": ["pending", "sent", "dead", "dropped"]}), q("limit", S())],
     "responses": {"200": json_resp("messages", data(outbox)), **a_errors(*ERR_STD)}}},
 "/admin/outbox/retry-dead": {"post": {"summary": "retry every dead message", "requestBody": empty, "responses": {"200": json_resp("how many", obj({"retried": I})), **a_errors(*ERR_STD)}}},
 "/admin/outbox/{id}/retry": {"parameters": [pid], "post": {"summary": "retry a dead message", "requestBody": empty, "responses": {"200": json_resp("how many", obj({"retried": I})), **a_errors(*ERR_STD, "409")}}},
 "/admin/audit": {"get": {"summary": "audit events, newest first", "parameters": [q("project_id", S()), q("user_id", S()), q("since", S(), "UTC, RFC 3339"), q("until", S(), "UTC, RFC 3339"), q("limit", S())],
     "responses": {"200": json_resp("events", data(audit)), **a_errors(*ERR_STD)}}},
}
ad["components"] = {"securitySchemes": {"token": {"type": "http", "scheme": "bearer", "description": "admin_token"}}, "responses": {"HttpLayer": HTTP_LAYER_RESP}}
write("admin", ad, {"AdminErrorOrHttp": {"anyOf": [a_err, HTTP_ERROR]}, "Project": project, "User": a_user, "ApiKey": key, "Client": client, "OutboxMessage": outbox, "AuditEvent": audit, "HttpError": HTTP_ERROR})
