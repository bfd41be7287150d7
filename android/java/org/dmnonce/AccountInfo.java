package org.dmnonce;

/** The non-secret view of a provisioned account. */
public final class AccountInfo {
    private final String serverId;
    private final String serverUrl;
    private final String clientName;
    private final AuthScheme authScheme;
    private final Encoding encoding;
    private final Policy policy;
    private final AccountState state;

    AccountInfo(String serverId, String serverUrl, String clientName, String authScheme, String encoding,
            String policy, String state) {
        this.serverId = serverId;
        this.serverUrl = serverUrl;
        this.clientName = clientName;
        this.authScheme = AuthScheme.fromWire(authScheme);
        this.encoding = Encoding.fromWire(encoding);
        this.policy = Policy.fromWire(policy);
        this.state = AccountState.fromWire(state);
    }

    public String serverId() {
        return serverId;
    }

    public String serverUrl() {
        return serverUrl;
    }

    public String clientName() {
        return clientName;
    }

    public AuthScheme authScheme() {
        return authScheme;
    }

    public Encoding encoding() {
        return encoding;
    }

    public Policy policy() {
        return policy;
    }

    public AccountState state() {
        return state;
    }

    @Override
    public String toString() {
        return "AccountInfo{serverId=" + serverId + ", state=" + state + ", serverUrl=" + serverUrl
                + ", clientName=" + clientName + ", authScheme=" + authScheme + ", encoding=" + encoding
                + ", policy=" + policy + "}";
    }
}
