-- pgbench: the statements of one reset request for an existing account, as
-- resetd runs them (store.c), without resetd: PostgreSQL's own ceiling.
--	pgbench -M prepared -D project=ID -f bench/pgbench_request.sql
\set n random(1, 10000)
SELECT id, project_id, email, username, password_hash, email_verified, disabled, locale, first_name, last_name, created_at, updated_at, last_sign_in_at FROM users WHERE project_id = :project AND (email_key = 'bench-' || :n || '@example.com' OR username_key = 'bench-' || :n || '@example.com') ORDER BY CASE WHEN email_key = 'bench-' || :n || '@example.com' THEN 0 ELSE 1 END LIMIT 1;
BEGIN;
SELECT COUNT(*), COALESCE(MIN(created_at), 0) FROM secrets WHERE user_id = md5(:n::text) AND created_at > 0 AND purpose IN ('reset_link', 'reset_code');
UPDATE secrets SET revoked_at = 5 WHERE user_id = md5(:n::text) AND used_at IS NULL AND revoked_at IS NULL AND expires_at > 5;
INSERT INTO secrets (id, project_id, user_id, purpose, token_hash, email, created_at, expires_at, login_url, locale) VALUES (gen_random_uuid()::text, :project, NULL, 'reset_link', md5(random()::text), 'bench@example.com', 1, 2, NULL, NULL);
INSERT INTO outbox (id, project_id, kind, to_addr, locale, payload, state, next_try_at, created_at) VALUES (gen_random_uuid()::text, :project, 'reset_link', 'bench@example.com', NULL, '{"link":"http://127.0.0.1:8080/reset?reset_code=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx&user_id=00000000-0000-0000-0000-000000000000","ttl_minutes":"60","project_name":"bench","email":"bench@example.com"}', 'pending', 1, 1);
INSERT INTO audit_events (id, project_id, created_at, event, client_ip, user_agent, subject, detail) VALUES (gen_random_uuid()::text, :project, 1, 'reset_requested', '127.0.0.1', 'wrk', md5(:n::text), 'account');
COMMIT;
