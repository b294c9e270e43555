package io.eventsync.spring;

import com.google.protobuf.Message;
import io.eventsync.ConfigException;
import io.eventsync.handler.EventContext;
import io.eventsync.handler.Handler;
import io.eventsync.handler.Outcome;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.core.MethodIntrospector;
import org.springframework.core.annotation.AnnotatedElementUtils;

/** Collects {@link EventsyncHandler} methods of every bean, per subscription, checking their signatures. */
public final class HandlerMethods implements BeanPostProcessor {

    /** One discovered handler method. */
    public record Found(String subscription, Class<? extends Message> type, Handler<Message> handler, String where) {}

    private final Map<String, List<Found>> bySubscription = new ConcurrentHashMap<>();

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
        Class<?> target = AopUtils.getTargetClass(bean);
        Map<Method, EventsyncHandler> methods = MethodIntrospector.selectMethods(target,
                (MethodIntrospector.MetadataLookup<EventsyncHandler>) m ->
                        AnnotatedElementUtils.findMergedAnnotation(m, EventsyncHandler.class));
        methods.forEach((method, annotation) -> {
            Found found = bind(bean, beanName, method, annotation);
            bySubscription.computeIfAbsent(found.subscription(), k -> new ArrayList<>()).add(found);
        });
        return bean;
    }

    public Map<String, List<Found>> bySubscription() {
        return Map.copyOf(bySubscription);
    }

    @SuppressWarnings("unchecked")
    private static Found bind(Object bean, String beanName, Method method, EventsyncHandler annotation) {
        String where = beanName + "." + method.getName();
        Class<?>[] params = method.getParameterTypes();
        if (params.length < 1 || params.length > 2 || !Message.class.isAssignableFrom(params[0])
                || params[0] == Message.class || (params.length == 2 && params[1] != EventContext.class)) {
            throw new ConfigException("@EventsyncHandler method " + where + " must take a generated protobuf message"
                    + " type, optionally followed by an EventContext, but takes " + List.of(params));
        }
        Class<?> returns = method.getReturnType();
        if (returns != void.class && !Outcome.class.isAssignableFrom(returns)) {
            throw new ConfigException("@EventsyncHandler method " + where + " must return Outcome or void, but returns "
                    + returns.getName());
        }
        if (annotation.subscription().isBlank()) {
            throw new ConfigException("@EventsyncHandler on " + where + " needs a subscription");
        }
        Method invocable = AopUtils.selectInvocableMethod(method, bean.getClass());
        invocable.setAccessible(true);
        boolean withContext = params.length == 2;
        Handler<Message> handler = (payload, ctx) -> {
            Object result;
            try {
                result = withContext ? invocable.invoke(bean, payload, ctx) : invocable.invoke(bean, payload);
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                if (cause instanceof Exception ex) {
                    throw ex;
                }
                throw (Error) cause;
            }
            return result == null ? Outcome.applied() : (Outcome) result;
        };
        return new Found(annotation.subscription(), (Class<? extends Message>) params[0], handler, where);
    }
}
