"""The control API: start, watch, promote, abort and roll back rollouts over HTTP, and take CI
webhooks.

    uvicorn app.control.main:create_control_app --factory --host 0.0.0.0 --port 8000

It is `app.main.create_app` (correlation ids, metrics, rate limiting, validation, /health,
/metrics) plus these routes. It never imports `flows/`: rollouts start as flow runs of Prefect
deployments named in the settings (`deploy/rollout`, `rollback/restore`,
`progress/every-minute`, served by `flows.serve`), and the API reads and steers them through the
target (`blocks.target.Target`: records, history, `post_command`).

Endpoints (bearer token from `CONTROL_API_TOKENS` on all but the webhook)
-------------------------------------------------------------------------
`POST /rollouts`                  body `{"app", "version", "strategy", "steps"?, "env"?, ...}`
                                  → 202 `{flow_run_id, watch_url, status_url, ...}`; 200 if a
                                  run already carries it; 409 if another version is unfinished;
                                  optional `Idempotency-Key` header
`GET  /rollouts/{app}`            phase, stable version, weights read back, entry point, rollout
`GET  /rollouts/{app}/history`    `?limit=20`, newest first, with transitions and analyses
`POST /rollouts/{app}/promote`    `?full=true` skips the remaining steps → 202
`POST /rollouts/{app}/abort`      → 202 (works while Prefect is down: the target keeps it)
`POST /rollouts/{app}/rollback`   `?to=SNAPSHOT` (default newest) → 202 with the flow run
`GET  /apps`                      apps, stable versions, last phases
`POST /webhooks/ci`               signed (HMAC-SHA256), no token → as `POST /rollouts`

Failures: bad input → 422 naming the field (Prefect's own parameter validation included); an
unknown app → 404 listing the known ones; Prefect unreachable → 503 and nothing is started
(fail-safe: a rollout only exists as a Prefect flow run); the target unreachable → 503.

Settings (environment): `PREFECT_API_URL`, `PREFECT_API_KEY` (Cloud), `PREFECT_UI_URL`,
`CONTROL_TARGET` (or `FLOODGATE_TARGET`, default `local`), `FLOODGATE_HOME`,
`CONTROL_DEPLOY_DEPLOYMENT` / `CONTROL_ROLLBACK_DEPLOYMENT` / `CONTROL_PROGRESS_DEPLOYMENT`,
`CONTROL_API_TOKENS` and `CONTROL_WEBHOOK_SECRETS` (JSON lists, ≥ 16 characters each),
`CONTROL_WEBHOOK_TOLERANCE_SECONDS` (300), `CONTROL_PREFECT_TIMEOUT_SECONDS` (5).

Calling the webhook from CI
---------------------------
Sign `"<delivery id>.<unix timestamp>.<body>"` with HMAC-SHA256 and the shared secret (see
`app.control.webhooks.signatures` for why the id and timestamp are signed too). Deliveries
signed more than 5 minutes from the server's clock are refused; re-sending the same delivery id
(e.g. `curl --retry`) returns the flow run the first one created, with 200.

Any shell with curl and openssl (`tests/app/control/test_docs.py` runs this very script):

```sh
body=$(printf '{"app":"%s","version":"%s","strategy":"%s"}' \
  "$APP" "$VERSION" "${STRATEGY:-canary}")
ts=$(date +%s)
id=${DELIVERY:-"$(hostname)-$ts-$$"}
sig=$(printf '%s.%s.%s' "$id" "$ts" "$body" \
  | openssl dgst -sha256 -hmac "$FLOODGATE_WEBHOOK_SECRET" -r | cut -d' ' -f1)
curl -fsS --retry 3 -X POST "$FLOODGATE_URL/webhooks/ci" \
  -H 'Content-Type: application/json' \
  -H "X-Floodgate-Delivery: $id" \
  -H "X-Floodgate-Timestamp: $ts" \
  -H "X-Floodgate-Signature: sha256=$sig" \
  --data-binary "$body"
```

GitHub Actions (secrets `FLOODGATE_URL`, `FLOODGATE_WEBHOOK_SECRET`; a re-run is a new
delivery, a curl retry is not):

```yaml
- name: Roll out with Floodgate
  env:
    FLOODGATE_URL: ${{ secrets.FLOODGATE_URL }}
    FLOODGATE_WEBHOOK_SECRET: ${{ secrets.FLOODGATE_WEBHOOK_SECRET }}
    APP: fraud-api
    VERSION: ${{ github.ref_name }}
    DELIVERY: gh-${{ github.run_id }}-${{ github.run_attempt }}
  run: |
    # the shell script above
```

GitLab CI: the same script in a job with `APP`, `VERSION: $CI_COMMIT_TAG`,
`DELIVERY: gl-$CI_PIPELINE_ID-$CI_JOB_ID` and the two CI/CD variables (masked).

GitHub can also call the webhook itself: a repository webhook (content type `application/json`,
the secret, events: *Deployments*) signs with `X-Hub-Signature-256`, which is accepted too; the
deployment's `environment` names the app and its `ref` the version (or put `app`, `version`,
`strategy`, ... in the deployment's `payload`), e.g.
`gh api repos/OWNER/REPO/deployments -f ref=v2 -f environment=fraud-api`.
"""
