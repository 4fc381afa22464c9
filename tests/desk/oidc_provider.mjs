// A real OpenID Connect provider for the desk's sign-in tests: panva's oidc-provider (npm), run by node.
//
//   node tests/desk/oidc_provider.mjs --host 127.0.0.1 --redirect-uri http://127.0.0.1:8100/login/oidc/callback
//
// Listens on a free port of --host and prints "ready <issuer>" once it answers. One static confidential
// client (id `civiclab-desk`, secret from OIDC_TEST_CLIENT_SECRET), PKCE required, and the accounts
// below; its built-in development login form (devInteractions) accepts any password for them.
// The first-party client is granted its scopes without a consent screen, as an administration's
// provider does for its own services.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { parseArgs } from "node:util";

import Provider from "oidc-provider";

const { values: args } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    "redirect-uri": { type: "string", multiple: true, default: [] },
    "client-id": { type: "string", default: "civiclab-desk" },
  },
});
const secret = process.env.OIDC_TEST_CLIENT_SECRET;
if (!secret) {
  console.error("set OIDC_TEST_CLIENT_SECRET");
  process.exit(2);
}

// Who can sign in. `desk_role` is the provider's own view of the person's role (the desk's role claim).
const ACCOUNTS = {
  martin: { email: "martin@belleval.example", desk_role: "member" },
  nadia: { email: "nadia@belleval.example", desk_role: "member" },
  vera: { email: "vera@belleval.example", desk_role: ["staff", "viewer"] },
  bob: { email: "bob@belleval.example", desk_role: "member" },
  mallory: { email: "martin@belleval.example", email_verified: false, desk_role: "member" },
};

async function findAccount(_ctx, sub) {
  const known = ACCOUNTS[sub];
  if (!known) return undefined;
  return {
    accountId: sub,
    async claims() {
      return {
        sub,
        preferred_username: sub,
        name: sub,
        email: known.email,
        email_verified: known.email_verified ?? true,
        desk_role: known.desk_role,
      };
    },
  };
}

const server = createServer();
await new Promise((resolve) => server.listen(0, args.host, resolve));
const issuer = `http://${args.host}:${server.address().port}`;
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: "test-1", use: "sig", alg: "RS256" };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: args["client-id"],
      client_secret: secret,
      redirect_uris: args["redirect-uri"],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  pkce: { required: () => true },
  findAccount,
  claims: {
    openid: ["sub"],
    profile: ["preferred_username", "name", "desk_role"],
    email: ["email", "email_verified"],
  },
  scopes: ["openid", "profile", "email"],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString("hex")] },
  features: { devInteractions: { enabled: true } },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope("openid profile email");
    await grant.save();
    return grant;
  },
  ttl: { IdToken: 600, AccessToken: 600, AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600 },
});
provider.on("server_error", (_ctx, err) => console.error("server_error", err));
server.on("request", provider.callback());
console.log(`ready ${issuer}`);

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
