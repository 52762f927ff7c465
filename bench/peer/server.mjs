// oauth2-mock-server on 127.0.0.1 with a free port, for `cargo bench --bench flow`: prints one line,
// `PORT TOKEN` (TOKEN is an access token it issued, for its bearer GET /userinfo), then serves until killed.
import { OAuth2Server } from 'oauth2-mock-server';

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
await server.start(0, '127.0.0.1');
const token = await server.issuer.buildToken();
process.stdout.write(`${server.address().port} ${token}\n`);
