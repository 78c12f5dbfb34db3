# One image for every part of the hub; the command picks the part:
#   docker run tonglan run gateway | run subgraph-core | run worker | run relay | migrate | start
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
RUN chown -R node:node /app
USER node
ENTRYPOINT ["npx", "tsx", "cli/hub.ts"]
CMD ["start"]
