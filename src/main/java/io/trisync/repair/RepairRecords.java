package io.trisync.repair;

import io.trisync.config.TrisyncConfig;
import io.trisync.failure.Failure;
import io.trisync.repair.RepairMessages.PurgeRequest;
import io.trisync.repair.RepairMessages.QuarantineQuery;
import io.trisync.repair.RepairMessages.RestoreRequest;
import io.trisync.repair.RepairMessages.ResultQuery;
import io.trisync.store.AuditEntry;
import io.trisync.store.Ids;
import io.trisync.store.QuarantineEntry;
import io.trisync.store.RepairStore;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;

/** The answers to what was repaired: a repair's result and audit, and the quarantine's list, restores and purges. */
final class RepairRecords {

    private final TrisyncConfig config;
    private final Stores stores;
    private final Quarantine quarantine;

    RepairRecords(TrisyncConfig config, Stores stores, Quarantine quarantine) {
        this.config = config;
        this.stores = stores;
        this.quarantine = quarantine;
    }

    Future<JsonObject> result(JsonObject body) {
        ResultQuery query = ResultQuery.fromJson(body);
        String opId = query.opId();
        if (opId == null || opId.isBlank() || opId.length() > 64) {
            throw new Failure.BadRequest("operation_id is malformed");
        }
        return stores.syncOperations().get(opId).compose(op -> {
            if (op == null || !"repair".equals(op.kind())) {
                return Future.failedFuture(new Failure.NotFound("no repair operation " + opId));
            }
            String tenant = RepairVerticle.optionalTenant(query.tenantId());
            if (tenant != null && !tenant.equals(op.tenantId())) {
                return Future.failedFuture(new Failure.NotFound("no repair operation " + opId));
            }
            return stores.repairs().audits(opId, RepairVerticle.LISTED_ACTIONS).map(actions -> new JsonObject()
                    .put("operation", op.toPublicJson())
                    .put("result", op.result())
                    .put(
                            "actions",
                            new JsonArray(actions.stream()
                                    .map(AuditEntry::toPublicJson)
                                    .toList())));
        });
    }

    Future<JsonObject> listQuarantine(JsonObject body) {
        QuarantineQuery query = QuarantineQuery.fromJson(body);
        String state = query.state();
        state = state == null ? RepairStore.QUARANTINED : state;
        if (!Quarantine.isState(state)) {
            throw new Failure.BadRequest("state must be moving, quarantined, restored or purged");
        }
        Integer requested = query.limit();
        int limit = requested == null ? 100 : requested;
        if (limit < 1 || limit > 1000) {
            throw new Failure.BadRequest("limit must be between 1 and 1000");
        }
        return stores.repairs()
                .quarantine(RepairVerticle.optionalTenant(query.tenantId()), state, limit)
                .map(entries -> new JsonObject()
                        .put(
                                "items",
                                new JsonArray(entries.stream()
                                        .map(QuarantineEntry::toPublicJson)
                                        .toList())));
    }

    Future<JsonObject> purge(JsonObject body) {
        PurgeRequest request = PurgeRequest.fromJson(body);
        Integer requested = request.olderThanDays();
        int days = requested == null ? config.repair().quarantineRetentionDays() : requested;
        if (days < 0) {
            throw new Failure.BadRequest("older_than_days must be 0 or more");
        }
        return quarantine.purge(
                RepairVerticle.optionalTenant(request.tenantId()),
                Instant.now().minus(Duration.ofDays(days)),
                request.actor());
    }

    Future<JsonObject> restore(JsonObject body) {
        RestoreRequest request = RestoreRequest.fromJson(body);
        return quarantine
                .restore(
                        Ids.require("id", request.id()),
                        RepairVerticle.optionalTenant(request.tenantId()),
                        request.actor())
                .map(QuarantineEntry::toPublicJson);
    }
}
