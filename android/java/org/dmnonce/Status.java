package org.dmnonce;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/** Daemon and per-account state (no secrets, no nonces). */
public final class Status {
    private final int protocol;
    private final String daemonVersion;
    private final long uptimeSecs;
    private final List<AccountInfo> accounts;
    private final Counters counters;

    Status(int protocol, String daemonVersion, long uptimeSecs, AccountInfo[] accounts, Counters counters) {
        this.protocol = protocol;
        this.daemonVersion = daemonVersion;
        this.uptimeSecs = uptimeSecs;
        this.accounts = Collections.unmodifiableList(Arrays.asList(accounts.clone()));
        this.counters = counters;
    }

    public int protocol() {
        return protocol;
    }

    public String daemonVersion() {
        return daemonVersion;
    }

    public long uptimeSecs() {
        return uptimeSecs;
    }

    public List<AccountInfo> accounts() {
        return accounts;
    }

    /** The account with this server id, or {@code null}. */
    public AccountInfo account(String serverId) {
        for (AccountInfo a : accounts) {
            if (a.serverId().equals(serverId)) {
                return a;
            }
        }
        return null;
    }

    public Counters counters() {
        return counters;
    }

    @Override
    public String toString() {
        return "Status{protocol=" + protocol + ", daemonVersion=" + daemonVersion + ", uptimeSecs=" + uptimeSecs
                + ", accounts=" + accounts + ", counters=" + counters + "}";
    }
}
