#!/usr/bin/env bash
# Sets each service role's password from the environment (see .env.example).
set -euo pipefail
for service in registry programs monitoring notifications; do
  var="$(echo "${service}" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
  password="${!var:?${var} must be set}"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" -c "ALTER ROLE ${service} PASSWORD '${password}';"
done
